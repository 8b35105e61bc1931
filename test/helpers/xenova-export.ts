import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { MODEL_DIR, referenceInputs } from './fixture';
import { pyrefPython } from './python';

/**
 * Makes a transformers.js-style repository of the fixture model (model-a) the way such repos are
 * made: optimum's exporter (what `optimum-cli export onnx --task image-to-text-with-past` runs),
 * configs and tokenizer at the root, graphs in onnx/ in three variants:
 *   default    encoder_model.onnx + decoder_model_merged.onnx, weights in external data
 *              (encoder_model.onnx_data, decoder_model_merged.onnx.data: both spellings in use),
 *              plus the decoder_model.onnx / decoder_with_past_model.onnx pair with inline weights
 *   quantized  *_quantized.onnx, dynamically quantized as optimum's quantizer names them
 *   fp16       *_fp16.onnx, float16 inputs and outputs (converted, then merged, since the
 *              converter breaks a merged graph's If branches)
 * optimum fixes max_patches in the encoder, so it is set to the references' patch count, and
 * sizes its dummy inputs from a tokenizer, so the model gets a small T5 tokenizer.
 * Exit 3: optimum or onnxruntime is not importable.
 */
const SCRIPT = String.raw`
import json, os, shutil, sys
try:
    from optimum.exporters.onnx import main_export
    from optimum.onnx import merge_decoders
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.float16 import convert_float_to_float16
    import onnx
except ImportError as err:
    print(f"cannot import optimum's ONNX exporter or onnxruntime ({err})", file=sys.stderr)
    sys.exit(3)
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import T5TokenizerFast

src, work, max_patches = sys.argv[1], sys.argv[2], int(sys.argv[3])
model = os.path.join(work, "model")
shutil.copytree(src, model)
pp_file = os.path.join(model, "preprocessor_config.json")
pp = json.load(open(pp_file))
pp.update(max_patches=max_patches, processor_class="Pix2StructProcessor")
json.dump(pp, open(pp_file, "w"))
vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + [(c, -1.0) for c in "abcdefghij"]
tok = Tokenizer(models.Unigram(vocab, unk_id=2))
tok.pre_tokenizer = pre_tokenizers.Metaspace()
tok.decoder = decoders.Metaspace()
T5TokenizerFast(tokenizer_object=tok, eos_token="</s>", pad_token="<pad>", unk_token="<unk>", extra_ids=0).save_pretrained(model)

out = os.path.join(work, "export")
main_export(model, output=out, task="image-to-text-with-past")
repo = os.path.join(work, "repo")
graphs = os.path.join(repo, "onnx")
os.makedirs(graphs)
for name in sorted(os.listdir(out)):
    if not name.endswith(".onnx"):
        shutil.copy(os.path.join(out, name), os.path.join(repo, name))
src_graph = lambda name: os.path.join(out, name + ".onnx")
for name, data in (("encoder_model", "encoder_model.onnx_data"), ("decoder_model_merged", "decoder_model_merged.onnx.data")):
    onnx.save(onnx.load(src_graph(name)), os.path.join(graphs, name + ".onnx"), save_as_external_data=True, all_tensors_to_one_file=True, location=data, size_threshold=1024)
for name in ("decoder_model", "decoder_with_past_model"):
    shutil.copy(src_graph(name), os.path.join(graphs, name + ".onnx"))
for name in ("encoder_model", "decoder_model_merged"):
    quantize_dynamic(src_graph(name), os.path.join(graphs, name + "_quantized.onnx"), weight_type=QuantType.QInt8)
half = lambda name: convert_float_to_float16(onnx.load(src_graph(name)), keep_io_types=False)
onnx.save(half("encoder_model"), os.path.join(graphs, "encoder_model_fp16.onnx"))
merge_decoders(half("decoder_model"), half("decoder_with_past_model"), save_path=os.path.join(graphs, "decoder_model_merged_fp16.onnx"), strict=False)
print(json.dumps({"root": sorted(os.listdir(repo)), "onnx": sorted(os.listdir(graphs))}))
`;

export type XenovaExport = { repo: string; skip?: undefined } | { skip: string; repo?: undefined };

/** Exports into `work`/repo; { skip } when the reference Python or optimum is missing. Throws when the export fails. */
export function makeXenovaExport(work: string): XenovaExport {
  const python = pyrefPython();
  if (!python) return { skip: 'no .cache/pyref interpreter (run scripts/python-env.sh)' };
  const run = spawnSync(python, ['-', MODEL_DIR, work, String(referenceInputs('chart').maxPatches)], {
    input: SCRIPT,
    encoding: 'utf8',
    env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1' },
    maxBuffer: 64 << 20,
  });
  if (run.status === 3) return { skip: run.stderr.trim().split('\n').pop() ?? 'optimum is not importable' };
  if (run.status !== 0) throw new Error(`optimum export failed (exit ${run.status}):\n${run.stderr.slice(-4000)}`);
  return { repo: path.join(work, 'repo') };
}
