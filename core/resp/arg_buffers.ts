/**
 * Buffers for big request arguments (see RequestParser: the rest of a big argument is read
 * straight into a buffer of its final size), reused once the argument has become a string.
 *
 * @module
 */

/** Bytes of big-argument buffers kept for reuse, at most (see spares). */
const SPARE_BYTES = 16 * 1024 * 1024;
/**
 * Buffers of big arguments already turned into strings, shared by every parser and reused for
 * the next big arguments. A fresh buffer of a megabyte is fresh memory: the kernel faults its
 * pages in one by one as the socket read fills it, and that (with the allocation) cost more than
 * the read itself (SET of 1 MiB values on Deno: ~140 page faults and ~400 us per request).
 */
const spares: Uint8Array[] = [];
let spareBytes = 0;
/** When a big argument last took or gave a buffer (performance.now()). */
let sparesUsed = 0;
/** Spares unused this long (ms) are dropped at the next trim of any parser. */
const SPARE_IDLE_MS = 2000;

/** A buffer of `size` bytes for a big argument: a spare one when one is big enough. */
export function takeBuffer(size: number): Uint8Array {
  sparesUsed = performance.now();
  let best = -1;
  for (let i = 0; i < spares.length; i++) {
    const len = spares[i]!.length;
    // Not one much bigger than needed: the rest of it would sit idle while this argument fills.
    if (len >= size && len <= 4 * size && (best < 0 || len < spares[best]!.length)) best = i;
  }
  if (best < 0) return new Uint8Array(size);
  const buf = spares[best]!;
  spares[best] = spares[spares.length - 1]!;
  spares.pop();
  spareBytes -= buf.length;
  return buf.length === size ? buf : buf.subarray(0, size);
}

/** Gives back a buffer of {@linkcode takeBuffer} whose bytes are no longer needed. */
export function giveBuffer(buf: Uint8Array): void {
  sparesUsed = performance.now();
  const whole = buf.length === buf.buffer.byteLength
    ? buf
    : new Uint8Array(buf.buffer, 0, buf.buffer.byteLength);
  // The smallest spares go first when there is no room: big ones save the most faults.
  while (spareBytes + whole.length > SPARE_BYTES && spares.length > 0) {
    let least = 0;
    for (let i = 1; i < spares.length; i++) {
      if (spares[i]!.length < spares[least]!.length) least = i;
    }
    if (spares[least]!.length >= whole.length) return;
    spareBytes -= spares[least]!.length;
    spares[least] = spares[spares.length - 1]!;
    spares.pop();
  }
  if (spareBytes + whole.length > SPARE_BYTES) return;
  spares.push(whole);
  spareBytes += whole.length;
}

/** Drops the spares when no big argument took or gave one for {@linkcode SPARE_IDLE_MS}. */
export function dropIdleBuffers(): void {
  if (spares.length > 0 && performance.now() - sparesUsed >= SPARE_IDLE_MS) {
    spares.length = 0;
    spareBytes = 0;
  }
}
