/*
 * The pretrained pix2struct-base/large checkpoints (no fine-tuning) continue their
 * pretraining task: parsing a screenshot into simplified HTML. Per the paper (arXiv
 * 2210.03347, section 2.2 and figure 3) that HTML keeps no tag names at all: every DOM node
 * becomes "<" ... ">", a node holds its text or its child nodes, and an image node holds its
 * filename and alt text as `img_src=` / `img_alt=`. The paper's example:
 *
 *   <<<Python> <img_src=py_logo.png img_alt=Python>> <<C++> <img_src=cpp_logo.png img_alt=C++>> <Submit>>
 *
 * So "<div>" in such output is a node whose text is "div", and "</p>" one whose text is "/p"
 * (the paper's pricing example has the text "/mo"); there are no closing tags to match.
 *
 * Generated output is not always well formed: a ">" with nothing open, nodes never closed,
 * or the text cut off mid-node when generation hit its token limit. The parser never throws:
 * stray ">" are skipped, open nodes are closed at the end and flagged, and every irregularity
 * is listed in `issues`. It is iterative, so deep nesting cannot overflow the stack.
 */

export interface UiNode {
  /**
   * Path of child indices from the root ("0", "0.2", "0.2.1"). Re-parsing a longer prefix of
   * the same output (streaming) keeps the ids of nodes already seen, so a view can keep its
   * selection and expansion state while tokens arrive.
   */
  id: string;
  /** "root"; "img" for image nodes; "text" for a node with text and no children; "group" otherwise. */
  tag: string;
  /** The node's own text, whitespace collapsed; absent when it has none. */
  text?: string;
  /** For img nodes: "src", "alt" (from img_src=, img_alt=). */
  attributes: Record<string, string>;
  children: UiNode[];
  /** False when the output ended before this node's ">". */
  closed: boolean;
}

export interface UiParseIssue {
  kind: 'stray-close' | 'unclosed';
  /** Character offset in the input: the stray ">", or the "<" of the unclosed node. */
  offset: number;
  message: string;
}

export interface UiParse {
  root: UiNode;
  /** True when every node was closed and no ">" was stray. */
  complete: boolean;
  issues: UiParseIssue[];
}

interface OpenNode {
  node: UiNode;
  /** Text pieces between this node's children, joined when the node is finished. */
  segments: string[];
  start: number;
}

export function parseUiStructure(text: string): UiParse {
  const root: UiNode = { id: '0', tag: 'root', attributes: {}, children: [], closed: true };
  const stack: OpenNode[] = [{ node: root, segments: [], start: 0 }];
  const issues: UiParseIssue[] = [];
  let pending = '';
  const top = () => stack[stack.length - 1]!;
  const flush = () => {
    if (pending !== '') top().segments.push(pending);
    pending = '';
  };

  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '<') {
      flush();
      const parent = top().node;
      const node: UiNode = { id: `${parent.id}.${parent.children.length}`, tag: 'group', attributes: {}, children: [], closed: true };
      parent.children.push(node);
      stack.push({ node, segments: [], start: i });
    } else if (ch === '>') {
      if (stack.length === 1) {
        issues.push({ kind: 'stray-close', offset: i, message: `">" at offset ${i} closes nothing; skipped` });
        continue;
      }
      flush();
      finish(stack.pop()!);
    } else {
      pending += ch;
    }
  }
  flush();
  while (stack.length > 1) {
    const open = stack.pop()!;
    open.node.closed = false;
    issues.push({ kind: 'unclosed', offset: open.start, message: `node ${open.node.id} opened at offset ${open.start} is never closed (output truncated?)` });
    finish(open);
  }
  finish(stack.pop()!);
  // Unclosed nodes were found innermost first; report them in reading order.
  issues.sort((a, b) => a.offset - b.offset);
  return { root, complete: issues.length === 0, issues };
}

/** Image attributes start at the first "img_<name>=" in the node's text. */
const IMG_ATTRIBUTE = /(?:^|\s)img_[a-z]+=/i;

function finish({ node, segments }: OpenNode): void {
  const joined = segments.join(' ');
  const attrAt = joined.search(IMG_ATTRIBUTE);
  let own = joined;
  if (attrAt >= 0) {
    own = joined.slice(0, attrAt);
    Object.assign(node.attributes, parseImgAttributes(joined.slice(attrAt)));
    if (node.tag !== 'root') node.tag = 'img';
  }
  const cleaned = decodeEntities(own.replace(/\s+/g, ' ').trim());
  if (cleaned !== '') node.text = cleaned;
  if (node.tag === 'group' && node.children.length === 0 && node.text !== undefined) node.tag = 'text';
}

/**
 * "img_src=py_logo.png img_alt=Python logo" -> { src: "py_logo.png", alt: "Python logo" }.
 * Values run to the next img_<name>= because alt text has spaces. Names are letters only,
 * so model output cannot write keys such as "__proto__".
 */
function parseImgAttributes(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.trim().split(/\s+(?=img_[a-z]+=)/i)) {
    const m = /^img_([a-z]+)=([\s\S]*)$/i.exec(part);
    if (m) out[m[1]!.toLowerCase()] = decodeEntities(m[2]!.replace(/\s+/g, ' ').trim());
  }
  return out;
}

/** Text extracted from web pages may carry HTML entities; decode the common ones. */
function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return Object.prototype.hasOwnProperty.call(named, body.toLowerCase()) ? named[body.toLowerCase()]! : whole;
  });
}

/** Every node, depth first in document order, root first. */
export function flattenUiTree(root: UiNode): UiNode[] {
  const out: UiNode[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    out.push(node);
    for (let i = node.children.length - 1; i >= 0; i--) stack.push(node.children[i]!);
  }
  return out;
}
