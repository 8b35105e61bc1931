import { onnx } from 'onnx-proto';

export type Dim = number | string;

/** Where an initializer's bytes live, relative to the folder that holds the .onnx file. */
export interface ExternalRef {
  location: string;
  offset: number;
  length: number;
}

export type AttrValue = number | number[] | string | { floats: number[] } | { float: number };

const ElemType = {
  float: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  int8: onnx.TensorProto.DataType.INT8,
} as const;
export type ElemTypeName = keyof typeof ElemType;

const MS_DOMAIN = 'com.microsoft';

/**
 * Builds one ONNX graph. Weights never pass through protobuf: initializers reference
 * external data, so graphs of any size stay far below protobuf's 2 GB limit.
 */
export class GraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly usedNames = new Set<string>();
  private readonly constCache = new Map<string, string>();
  /** Values renamed to become graph outputs: later nodes read them under the new name. */
  private readonly renamed = new Map<string, string>();
  private counter = 0;

  constructor(private readonly name: string) {}

  private fresh(hint: string): string {
    let candidate = hint;
    while (this.usedNames.has(candidate)) candidate = `${hint}_${++this.counter}`;
    this.usedNames.add(candidate);
    return candidate;
  }

  input(name: string, type: ElemTypeName, dims: Dim[]): string {
    this.usedNames.add(name);
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /**
   * Marks `value` as a graph output named `name`. A node's result is renamed in place (an
   * Identity would copy it on every run: the decoder's KV cache, the image's cross K/V); graph
   * inputs, initializers and values that are already outputs go through an Identity.
   */
  output(value: string, name: string, type: ElemTypeName, dims: Dim[]): void {
    if (value !== name) {
      if (this.usedNames.has(name)) throw new Error(`graph ${this.name}: output name ${name} is taken`);
      this.usedNames.add(name);
      const producer = this.nodes.find((n) => n.output!.includes(value));
      if (producer && !this.outputs.some((o) => o.name === value)) {
        producer.output = producer.output!.map((o) => (o === value ? name : o));
        for (const n of this.nodes) n.input = n.input!.map((i) => (i === value ? name : i));
        this.renamed.set(value, name);
      } else {
        this.nodes.push({ opType: 'Identity', input: [this.renamed.get(value) ?? value], output: [name], name: `out_${name}` });
      }
    }
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** A weight whose data stays in an external file. */
  externalWeight(name: string, dims: number[], ref: ExternalRef, type: ElemTypeName = 'float'): string {
    const tensorName = this.fresh(name);
    this.initializers.push({
      name: tensorName,
      dims,
      dataType: ElemType[type],
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: ref.location },
        { key: 'offset', value: String(ref.offset) },
        { key: 'length', value: String(ref.length) },
      ],
    });
    return tensorName;
  }

  constFloat(values: number[], dims: number[] = [values.length]): string {
    return this.constant('float', values, dims);
  }

  constInt64(values: number[], dims: number[] = [values.length]): string {
    return this.constant('int64', values, dims);
  }

  private constant(type: 'float' | 'int64', values: number[], dims: number[]): string {
    const key = `${type}:${dims.join('x')}:${values.join(',')}`;
    const cached = this.constCache.get(key);
    if (cached) return cached;
    const name = this.fresh(`const_${type}`);
    this.initializers.push(
      type === 'float'
        ? { name, dims, dataType: ElemType.float, floatData: values }
        : { name, dims, dataType: ElemType.int64, int64Data: values },
    );
    this.constCache.set(key, name);
    return name;
  }

  /** Adds a node with one output and returns that output's name. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, hint = opType.toLowerCase()): string {
    return this.opMulti(opType, inputs, 1, attrs, hint)[0]!;
  }

  opMulti(opType: string, inputs: string[], outputCount: number, attrs: Record<string, AttrValue> = {}, hint = opType.toLowerCase()): string[] {
    const outputs = Array.from({ length: outputCount }, (_, i) => this.fresh(outputCount === 1 ? hint : `${hint}_${i}`));
    const domain = MS_OPS.has(opType) ? MS_DOMAIN : '';
    this.nodes.push({
      opType,
      domain,
      input: inputs.map((i) => this.renamed.get(i) ?? i),
      output: outputs,
      name: this.fresh(`n_${hint}`),
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outputs;
  }

  /** Serialises the model; `opset` is the default-domain version. */
  serialize(opset: number, docString: string): Uint8Array {
    const model: onnx.IModelProto = {
      irVersion: 9,
      producerName: 'pix2struct-vscode',
      producerVersion: '1',
      docString,
      opsetImport: [
        { domain: '', version: opset },
        { domain: MS_DOMAIN, version: 1 },
      ],
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    };
    return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
  }
}

const MS_OPS = new Set(['FusedMatMul', 'MultiHeadAttention', 'SkipSimplifiedLayerNormalization', 'FastGelu', 'DynamicQuantizeMatMul', 'MatMulNBits']);

function valueInfo(name: string, type: ElemTypeName, dims: Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ElemType[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: AttrValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') return { name, type: T.INT, i: value };
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if ('floats' in value) return { name, type: T.FLOATS, floats: value.floats };
  return { name, type: T.FLOAT, f: value.float };
}
