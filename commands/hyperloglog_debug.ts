/**
 * HyperLogLog testing and debugging commands: PFSELFTEST and PFDEBUG GETREG | DECODE |
 * ENCODING | TODENSE.
 *
 * @module
 */

import type { CommandSpec } from "../core/command.ts";
import {
  denseGet,
  denseSetRaw,
  HLL_DENSE,
  HLL_DENSE_SIZE,
  HLL_EMPTY,
  HLL_HDR,
  HLL_REGISTERS,
  HLL_SPARSE,
  hllAdd,
  hllCount,
  hllFromString,
  loadHll,
  saveHll,
  sparseToDense,
} from "../core/hll.ts";
import { HLL_CORRUPTED, hllAt, sparseMaxBytes } from "../core/hll_access.ts";
import { fail, type Reply, SimpleString } from "../core/resp/reply.ts";

/** One sparse opcode in PFDEBUG DECODE's notation: `z:len`, `Z:len` or `v:value,len`. */
function decodeSparse(buf: Uint8Array, len: number): string {
  const parts: string[] = [];
  for (let p = HLL_HDR; p < len;) {
    const op = buf[p]!;
    if ((op & 0xc0) === 0) {
      parts.push(`z:${(op & 0x3f) + 1}`);
      p++;
    } else if ((op & 0xc0) === 0x40) {
      parts.push(`Z:${(((op & 0x3f) << 8) | buf[p + 1]!) + 1}`);
      p += 2;
    } else {
      parts.push(`v:${((op >>> 2) & 0x1f) + 1},${(op & 3) + 1}`);
      p++;
    }
  }
  return parts.join(" ");
}

/** PFDEBUG subcommand key */
export const pfdebugCommand: CommandSpec = {
  name: "pfdebug",
  arity: 3,
  flags: ["write", "denyoom", "admin"],
  keys: { first: 2, last: 2, step: 1 },
  docs: {
    summary: "Internal commands for debugging HyperLogLog values",
    since: "2.8.9",
    group: "hyperloglog",
    complexity: "N/A",
    args: "subcommand key",
  },
  execute(client, argv) {
    const sub = argv[1]!;
    const key = argv[2]!;
    const cur = hllAt(client, key, true);
    if (cur === undefined) return fail("ERR The specified key does not exist");
    const h = loadHll(cur);
    const toDense = (): boolean => {
      if (h.buf[4] !== HLL_SPARSE) return false;
      if (!sparseToDense(h)) fail(HLL_CORRUPTED);
      // The conversion is a write: it propagates so replicas convert too.
      client.db.replace(key, saveHll(h));
      client.server.dirty++;
      return true;
    };
    switch (sub.toLowerCase()) {
      case "getreg": {
        toDense();
        const out: Reply[] = new Array(HLL_REGISTERS);
        for (let j = 0; j < HLL_REGISTERS; j++) out[j] = denseGet(h.buf, HLL_HDR, j);
        return out;
      }
      case "decode":
        if (h.buf[4] !== HLL_SPARSE) return fail("ERR HLL encoding is not sparse");
        return decodeSparse(h.buf, h.len);
      case "encoding":
        return new SimpleString(h.buf[4] === HLL_DENSE ? "dense" : "sparse");
      case "todense":
        return toDense() ? 1 : 0;
      default:
        return fail(`ERR Unknown PFDEBUG subcommand '${sub}'`);
    }
  },
};

const TEST_CYCLES = 1000;

/** Two 32-bit random halves, as Redis's `rand()` calls give. */
function rand32(): number {
  return Math.floor(Math.random() * 0x100000000);
}

/**
 * PFSELFTEST's checks: register access round-trips, then 10 million adds to a dense and a sparse
 * HyperLogLog, whose counts must agree and stay within 6 standard errors. Null when they pass,
 * else the error text.
 */
function selfTest(sparseMaxBytes: number): string | null {
  const dense = hllFromString("HYLL" + "\0".repeat(HLL_DENSE_SIZE - 4));
  const regs = dense.buf;
  const expect = new Uint8Array(HLL_REGISTERS);
  for (let c = 0; c < TEST_CYCLES; c++) {
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const r = rand32() & 63;
      expect[i] = r;
      denseSetRaw(regs, HLL_HDR, i, r);
    }
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const v = denseGet(regs, HLL_HDR, i);
      if (v !== expect[i]) {
        return `ERR TESTFAILED Register ${i} should be ${expect[i]} but is ${v}`;
      }
    }
  }
  regs.fill(0, HLL_HDR);
  const sparse = hllFromString(HLL_EMPTY);
  const relerr = 1.04 / Math.sqrt(HLL_REGISTERS);
  const seedLo = rand32();
  const seedHi = rand32();
  const f = String.fromCharCode;
  const hi = f(seedHi & 255, (seedHi >>> 8) & 255, (seedHi >>> 16) & 255, seedHi >>> 24);
  let checkpoint = 1;
  for (let j = 1; j <= 10000000; j++) {
    const lo = (j ^ seedLo) >>> 0;
    const ele = f(lo & 255, (lo >>> 8) & 255, (lo >>> 16) & 255, lo >>> 24) + hi;
    hllAdd(dense, ele, sparseMaxBytes);
    hllAdd(sparse, ele, sparseMaxBytes);
    if (j !== checkpoint) continue;
    if (j < sparseMaxBytes / 2 && sparse.buf[4] !== HLL_SPARSE) {
      return "ERR TESTFAILED sparse encoding not used";
    }
    const count = hllCount(dense);
    if (count !== hllCount(sparse)) return "ERR TESTFAILED dense/sparse disagree";
    // At 10 collisions are likely enough to allow one off.
    const maxerr = j === 10 ? 1 : Math.ceil(relerr * 6 * checkpoint);
    const abserr = Math.abs(checkpoint - count);
    if (abserr > maxerr) {
      return `ERR TESTFAILED Too big error. card:${checkpoint} abserr:${abserr}`;
    }
    checkpoint *= 10;
  }
  return null;
}

/** PFSELFTEST */
export const pfselftestCommand: CommandSpec = {
  name: "pfselftest",
  arity: 1,
  flags: ["admin"],
  docs: {
    summary: "An internal command for testing HyperLogLog values",
    since: "2.8.9",
    group: "hyperloglog",
    complexity: "N/A",
    args: "",
  },
  execute(client) {
    const err = selfTest(sparseMaxBytes(client));
    return err === null ? new SimpleString("OK") : fail(err);
  },
};

/** PFDEBUG and PFSELFTEST. */
export const hllDebugCommands: CommandSpec[] = [pfselftestCommand, pfdebugCommand];
