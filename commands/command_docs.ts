/**
 * Turns a command's argument notation (`key value [NX | XX] [EX seconds | PX milliseconds]
 * [key ...]`) into the argument trees of `COMMAND DOCS`, so each command states its grammar once.
 *
 * @module
 */

import { MapReply, type Reply, SimpleString } from "../core/resp/reply.ts";

/** One argument of COMMAND DOCS. */
export interface DocArg {
  name: string;
  type: string;
  token?: string;
  optional?: boolean;
  multiple?: boolean;
  /** The token comes again before each repetition (`GET pattern [GET pattern ...]`). */
  multipleToken?: boolean;
  arguments?: DocArg[];
}

type Node =
  | { kind: "word"; text: string; multiple: boolean }
  | { kind: "group"; alts: Node[][]; optional: boolean; multiple: boolean };

function tokenize(text: string): string[] {
  return text.replace(/([[\]<>|])/g, " $1 ").split(/\s+/).filter(Boolean);
}

function parseSeq(tokens: string[], pos: { i: number }): Node[][] {
  const alts: Node[][] = [[]];
  while (pos.i < tokens.length) {
    const t = tokens[pos.i]!;
    if (t === "]" || t === ">") break;
    pos.i++;
    const cur = alts[alts.length - 1]!;
    if (t === "|") {
      alts.push([]);
    } else if (t === "[" || t === "<") {
      // `[a | b]` is optional; `<a | b>` is a required choice (Redis's docs notation).
      const inner = parseSeq(tokens, pos);
      pos.i++; // the closing bracket
      cur.push({ kind: "group", alts: inner, optional: t === "[", multiple: false });
    } else if (t === "...") {
      const last = cur[cur.length - 1];
      if (last) last.multiple = true;
    } else {
      cur.push({ kind: "word", text: t, multiple: false });
    }
  }
  return alts;
}

const INTEGER_NAMES =
  /^(seconds|milliseconds|count|index|offset|start|end|numkeys|timeout|db|destination-db|len|min-match-len|increment|decrement|bit|value-int|client-id|port|numreplicas|limit|rank|maxlen|number|unix-time-seconds|unix-time-milliseconds|cursor|size|slot)$/;

function argType(name: string): string {
  if (
    name === "key" || name.endsWith("key") || /^key[0-9]$/.test(name) ||
    ["destination", "source", "dst", "src"].includes(name)
  ) {
    return "key";
  }
  if (name.startsWith("unix-time")) return "unix-time";
  if (INTEGER_NAMES.test(name)) return "integer";
  if (name === "pattern") return "pattern";
  if (name === "score" || name === "min" || name === "max" || name.startsWith("float")) {
    return "double";
  }
  return "string";
}

const isToken = (w: string) =>
  (/^[A-Z0-9][A-Z0-9_\-:#]*$/.test(w) && /[A-Z]/.test(w)) || ["$", "*", "=", "~"].includes(w);

/**
 * A `[X ...]` group right after `X` marks `X` as repeatable (`key [key ...]`); after several
 * words, `[X Y ...]` makes them one repeatable block (`field value [field value ...]`).
 */
function foldRepeats(seq: Node[]): Node[] {
  const out: Node[] = [];
  for (const n of seq) {
    const alt = n.kind === "group" && n.optional && n.alts.length === 1 ? n.alts[0]! : undefined;
    const k = alt?.length ?? 0;
    const prev = out.slice(out.length - k);
    if (alt !== undefined && k > 0 && prev.length === k && sameShape(alt, prev)) {
      if (k === 1) prev[0]!.multiple = true;
      else {out.splice(out.length - k, k, {
          kind: "group",
          alts: [prev],
          optional: false,
          multiple: true,
        });}
      continue;
    }
    out.push(n);
  }
  return out;
}

function sameShape(a: Node[], b: Node[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((n, i) => {
    const m = b[i]!;
    if (n.kind === "word" && m.kind === "word") return n.text === m.text;
    return false;
  });
}

function toArgs(seq: Node[]): DocArg[] {
  seq = foldRepeats(seq);
  const out: DocArg[] = [];
  for (let i = 0; i < seq.length; i++) {
    const n = seq[i]!;
    if (n.kind === "word") {
      const next = seq[i + 1];
      if (isToken(n.text) && next?.kind === "word" && !isToken(next.text) && !n.multiple) {
        // `EX seconds`: a token followed by its value is one argument.
        out.push(arg(next.text, argType(next.text), n.text, false, next.multiple));
        i++;
      } else if (isToken(n.text)) {
        out.push(arg(n.text.toLowerCase(), "pure-token", n.text, false, n.multiple));
      } else {
        out.push(arg(n.text, argType(n.text), undefined, false, n.multiple));
      }
      continue;
    }
    const alts = n.alts.map((alt) => toArgs(alt));
    let result: DocArg;
    const first = n.alts.length === 1 ? n.alts[0]![0] : undefined;
    if (alts.length === 1) {
      const only = alts[0]!;
      result = only.length === 1
        ? { ...only[0]! }
        : { name: blockName(only), type: "block", arguments: only };
      // `[LIMIT offset count]`, `[FULL [COUNT count]]`: the token opens a block of what follows.
      if (
        first?.kind === "word" && isToken(first.text) && !first.multiple && only.length > 1 &&
        only[0]!.type === "pure-token"
      ) {
        // `[AGGREGATE <SUM | MIN | MAX>]`: a token before one argument is that argument's token.
        const rest = only.slice(1);
        result = rest.length === 1 && rest[0]!.token === undefined
          ? { ...rest[0]!, token: first.text }
          : { name: blockName(rest), type: "block", token: first.text, arguments: rest };
      } else if (
        first?.kind === "word" && isToken(first.text) && only.length === 2 &&
        only[0]!.token === first.text &&
        n.alts[0]!.length === 3 && n.alts[0]!.every((w) => w.kind === "word")
      ) {
        // The token took the first value (`LIMIT offset`): give it the whole block instead.
        const [head, tail] = only as [DocArg, DocArg];
        const { token: _t, ...value } = head;
        result = {
          name: blockName([value, tail]),
          type: "block",
          token: first.text,
          arguments: [value, tail],
        };
      }
    } else {
      const members = alts.map((a) =>
        a.length === 1 ? a[0]! : { name: blockName(a), type: "block", arguments: a }
      );
      result = { name: blockName(members), type: "oneof", arguments: members };
    }
    if (n.optional) result.optional = true;
    if (n.multiple) result.multiple = true;
    // `[GET pattern [GET pattern ...]]`: the token is repeated with each value.
    if (n.multiple && first?.kind === "word" && isToken(first.text)) result.multipleToken = true;
    out.push(result);
  }
  return out;
}

function arg(
  name: string,
  type: string,
  token: string | undefined,
  optional: boolean,
  multiple: boolean,
): DocArg {
  const a: DocArg = { name, type };
  if (token !== undefined) a.token = token;
  if (optional) a.optional = true;
  if (multiple) a.multiple = true;
  return a;
}

function blockName(args: DocArg[]): string {
  return args.map((a) => a.name).join("-").slice(0, 40) || "block";
}

/** Parses argument notation into COMMAND DOCS arguments. */
export function parseArgs(text: string): DocArg[] {
  const tokens = tokenize(text);
  const alts = parseSeq(tokens, { i: 0 });
  if (alts.length > 1) {
    return [{
      name: "arg",
      type: "oneof",
      arguments: alts.map((a) => ({ name: "alt", type: "block", arguments: toArgs(a) })),
    }];
  }
  return toArgs(alts[0]!);
}

/**
 * One argument as the COMMAND DOCS reply shows it. Key arguments point at the command's key
 * specs in order (`count` of them); the ones past the last spec share it (LCS key1 key2).
 */
export function argReply(a: DocArg, keySpec: { next: number; count: number }): Reply {
  // A command without key specs has no keys: a `key` argument is a plain string (CLUSTER KEYSLOT).
  const type = a.type === "key" && keySpec.count === 0 ? "string" : a.type;
  const e: Reply[] = ["name", a.name, "type", type];
  if (type === "key") e.push("key_spec_index", Math.min(keySpec.next++, keySpec.count - 1));
  if (a.token !== undefined) e.push("token", a.token);
  const flags: Reply[] = [];
  if (a.optional) flags.push(new SimpleString("optional"));
  if (a.multiple) flags.push(new SimpleString("multiple"));
  if (a.multipleToken) flags.push(new SimpleString("multiple_token"));
  if (flags.length > 0) e.push("flags", flags);
  if (a.arguments) e.push("arguments", a.arguments.map((x) => argReply(x, keySpec)));
  return new MapReply(e);
}
