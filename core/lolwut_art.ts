/**
 * The computer art of LOLWUT, after Redis 7.0's lolwut.c, lolwut5.c and lolwut6.c: a pixel
 * canvas, Georg Nees's "Schotter" drawn in Braille characters (version 5) and a city skyline in
 * terminal colours (version 6). Redis's arithmetic is kept, single-precision floats included, so
 * the deterministic parts of a drawing (the first rows of squares) match Redis's to the pixel.
 *
 * @module
 */

const f = Math.fround;
/** C's rand(): 0..RAND_MAX (2^31 - 1). */
const rand = () => Math.floor(Math.random() * 2147483648);
const RAND_MAX = 2147483647;

/** A canvas of small integer colours. */
class Canvas {
  readonly pixels: Uint8Array;
  constructor(readonly width: number, readonly height: number, bg: number) {
    this.pixels = new Uint8Array(width * height).fill(bg);
  }

  draw(x: number, y: number, color: number): void {
    if (x < 0 || x >= this.width || y < 0 || y >= this.height) return;
    this.pixels[x + y * this.width] = color;
  }

  get(x: number, y: number): number {
    if (x < 0 || x >= this.width || y < 0 || y >= this.height) return 0;
    return this.pixels[x + y * this.width]!;
  }

  /** Bresenham's line. */
  line(x1: number, y1: number, x2: number, y2: number, color: number): void {
    const dx = Math.abs(x2 - x1), dy = Math.abs(y2 - y1);
    const sx = x1 < x2 ? 1 : -1, sy = y1 < y2 ? 1 : -1;
    let err = dx - dy;
    for (;;) {
      this.draw(x1, y1, color);
      if (x1 === x2 && y1 === y2) break;
      const e2 = err * 2;
      if (e2 > -dy) {
        err -= dy;
        x1 += sx;
      }
      if (e2 < dx) {
        err += dx;
        y1 += sy;
      }
    }
  }

  /** A square centred on x, y, of side `size`, rotated by `angle`. */
  square(x: number, y: number, size: number, angle: number, color: number): void {
    // The square inscribed in a circle of radius 1 has a side of sqrt(2).
    size = f(Math.round(f(f(size) / 1.4142135623)));
    const px: number[] = [], py: number[] = [];
    let k = f(Math.PI / 4 + angle);
    for (let j = 0; j < 4; j++) {
      px.push(cRound(Math.sin(k) * size + x));
      py.push(cRound(Math.cos(k) * size + y));
      k = f(k + Math.PI / 2);
    }
    for (let j = 0; j < 4; j++) {
      this.line(px[j]!, py[j]!, px[(j + 1) % 4]!, py[(j + 1) % 4]!, color);
    }
  }
}

/** C's round(): halves away from zero. */
function cRound(v: number): number {
  return v < 0 ? -Math.round(-v) : Math.round(v);
}

/** Version 5: Schotter, `cols` characters wide, in Braille (2x4 pixels a character). */
export function schotter(cols: number, perRow: number, perCol: number): string {
  const width = cols * 2;
  const padding = width > 4 ? 2 : 0;
  const side = f((width - padding * 2) / perRow);
  const height = Math.trunc(f(f(side * perCol) + padding * 2));
  const canvas = new Canvas(width, height, 0);
  for (let y = 0; y < perCol; y++) {
    for (let x = 0; x < perRow; x++) {
      let sx = Math.trunc(f(f(f(x * side) + f(side / 2)) + padding));
      let sy = Math.trunc(f(f(f(y * side) + f(side / 2)) + padding));
      // Rows further down are rotated and moved more and more at random.
      let angle = 0;
      if (y > 1) {
        let r1 = f(f(f(rand()) / RAND_MAX) / perCol * y);
        let r2 = f(f(f(rand()) / RAND_MAX) / perCol * y);
        let r3 = f(f(f(rand()) / RAND_MAX) / perCol * y);
        if (rand() % 2) r1 = -r1;
        if (rand() % 2) r2 = -r2;
        if (rand() % 2) r3 = -r3;
        angle = r1;
        sx = Math.trunc(f(sx + f(f(r2 * side) / 3)));
        sy = Math.trunc(f(sy + f(f(r3 * side) / 3)));
      }
      canvas.square(sx, sy, side, angle, 1);
    }
  }
  let text = "";
  for (let y = 0; y < canvas.height; y += 4) {
    for (let x = 0; x < canvas.width; x += 2) {
      let byte = 0;
      if (canvas.get(x, y)) byte |= 1;
      if (canvas.get(x, y + 1)) byte |= 2;
      if (canvas.get(x, y + 2)) byte |= 4;
      if (canvas.get(x + 1, y)) byte |= 8;
      if (canvas.get(x + 1, y + 1)) byte |= 16;
      if (canvas.get(x + 1, y + 2)) byte |= 32;
      if (canvas.get(x, y + 3)) byte |= 64;
      if (canvas.get(x + 1, y + 3)) byte |= 128;
      text += String.fromCharCode(0x2800 + byte);
    }
    if (y !== canvas.height - 1) text += "\n";
  }
  return text;
}

/** One skyscraper of the skyline. */
interface Skyscraper {
  xoff: number;
  width: number;
  height: number;
  windows: boolean;
  color: number;
}

function skyscraper(canvas: Canvas, si: Skyscraper): void {
  const starty = canvas.height - 1;
  const endy = starty - si.height + 1;
  for (let y = starty; y >= endy; y--) {
    for (let x = si.xoff; x < si.xoff + si.width; x++) {
      // The roof is four pixels narrower.
      if (y === endy && (x <= si.xoff + 1 || x >= si.xoff + si.width - 2)) continue;
      let color = si.color;
      if (
        si.windows && x > si.xoff + 1 && x < si.xoff + si.width - 2 && y > endy + 1 &&
        y < starty - 1
      ) {
        const relx = x - (si.xoff + 1);
        const rely = y - (endy + 1);
        // Windows two pixels wide, one tall: terminal "pixels" are not square.
        if (Math.trunc(relx / 2) % 2 && rely % 2) {
          do color = 1 + rand() % 2; while (color === si.color);
          if (relx % 2) color = canvas.get(x - 1, y);
        }
      }
      canvas.draw(x, y, color);
    }
  }
}

/** Version 6: a skyline, `cols` x `rows` coloured characters. */
export function skyline(cols: number, rows: number): string {
  const canvas = new Canvas(cols, rows, 3);
  const h = canvas.height;
  // Background skyscrapers without windows, the lighter ones behind.
  for (let color = 2; color >= 1; color--) {
    for (let offset = -10; offset < canvas.width;) {
      offset += rand() % 8;
      const width = 10 + rand() % 9;
      const height = color === 2
        ? Math.trunc(h / 2) + Math.trunc((rand() % h) / 2)
        : Math.trunc(h / 2) + Math.trunc((rand() % h) / 3);
      skyscraper(canvas, { xoff: offset, width, height, windows: false, color });
      offset += color === 2 ? Math.trunc(width / 2) : width + 1;
    }
  }
  // Foreground skyscrapers with windows.
  for (let offset = -10; offset < canvas.width;) {
    offset += rand() % 8;
    let width = 5 + rand() % 14;
    if (width % 4) width += width % 3;
    const height = Math.trunc(h / 3) + Math.trunc((rand() % h) / 2);
    skyscraper(canvas, { xoff: offset, width, height, windows: true, color: 0 });
    offset += width + 5;
  }
  const CE = ["0;30;40m", "0;90;100m", "0;37;47m", "0;97;107m"];
  let text = "";
  for (let y = 0; y < canvas.height; y++) {
    for (let x = 0; x < canvas.width; x++) {
      text += `\x1b[${CE[canvas.get(x, y)] ?? CE[0]} \x1b[0m`;
    }
    if (y !== canvas.height - 1) text += "\n";
  }
  return text;
}
