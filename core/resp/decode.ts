/**
 * Decodes one RESP reply into reply values: pre-encoded replies (a script's result) handed to an
 * in-process client. `!` is an error already counted in the error stats (`ErrorReply.noStats`).
 *
 * @module
 */

import { bytesToStr } from "../bytes.ts";
import {
  BigNumberReply,
  BoolReply,
  DoubleReply,
  ErrorReply,
  MapReply,
  R,
  type Reply,
  SetReply,
  SimpleString,
  VerbatimReply,
} from "./reply.ts";

/** Decodes the single RESP value in `buf`. */
export function decodeResp(buf: Uint8Array): Reply {
  let pos = 0;
  const line = (): string => {
    const start = pos;
    while (buf[pos] !== 13) pos++;
    const s = bytesToStr(buf, start, pos);
    pos += 2;
    return s;
  };
  const num = (): number => {
    let neg = false;
    if (buf[pos] === 45) {
      neg = true;
      pos++;
    }
    let n = 0;
    while (buf[pos] !== 13) n = n * 10 + buf[pos++]! - 48;
    pos += 2;
    return neg ? -n : n;
  };
  const value = (): Reply => {
    const type = buf[pos++];
    switch (type) {
      case 36: { // $
        const n = num();
        if (n < 0) return null;
        const s = bytesToStr(buf, pos, pos + n);
        pos += n + 2;
        return s;
      }
      case 58: { // :
        const text = line();
        const n = Number(text);
        return Number.isSafeInteger(n) ? n : BigInt(text);
      }
      case 42: { // *
        const n = num();
        if (n < 0) return R.nullArray;
        const out = new Array<Reply>(n);
        for (let i = 0; i < n; i++) out[i] = value();
        return out;
      }
      case 43: { // +
        const s = line();
        return s === "OK" ? R.ok : new SimpleString(s);
      }
      case 45: // -
        return new ErrorReply(line());
      case 33: { // ! (already counted)
        const e = new ErrorReply(line());
        e.noStats = true;
        return e;
      }
      case 95: // _
        pos += 2;
        return null;
      case 35: { // #
        const t = buf[pos] === 116;
        pos += 3;
        return new BoolReply(t);
      }
      case 44: { // ,
        const s = line();
        return new DoubleReply(s === "inf" ? Infinity : s === "-inf" ? -Infinity : Number(s));
      }
      case 40: // (
        return new BigNumberReply(line());
      case 61: { // =
        const n = num();
        const format = bytesToStr(buf, pos, pos + 3);
        const text = bytesToStr(buf, pos + 4, pos + n);
        pos += n + 2;
        return new VerbatimReply(text, format);
      }
      case 37: { // %
        const n = num();
        const entries = new Array<Reply>(n * 2);
        for (let i = 0; i < n * 2; i++) entries[i] = value();
        return new MapReply(entries);
      }
      case 126: { // ~
        const n = num();
        const items = new Array<Reply>(n);
        for (let i = 0; i < n; i++) items[i] = value();
        return new SetReply(items);
      }
      default:
        throw new Error(`Unexpected script reply type ${type}`);
    }
  };
  return value();
}
