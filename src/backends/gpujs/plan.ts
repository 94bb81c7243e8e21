// How a tensor is cut into pieces that gpu.js can address exactly. GL backends compute element
// addresses in float32, exact below 2^24, and store arrays in textures of bounded size; a piece
// of at most 2^22 elements stays clear of both (2048 x 2048 texels) and leaves room for k + n.
import type { CoupledShape } from '../../types.js';

/** Largest piece, in elements; float addresses are exact far beyond it (2^24). */
export const MAX_PIECE = 2 ** 22;

export interface Piece {
  /** First element of the piece in the flat tensor. */
  start: number;
  /** Elements in the piece. */
  length: number;
  /** First line (row of the stored matrix) in the piece. */
  firstLine: number;
  /** Lines in the piece. */
  lines: number;
  /** First element of each line in the piece, counted along the line (0 unless split). */
  offset: number;
  /** Elements of each line in the piece: the line length, or less for a split line. */
  width: number;
}

/** Pieces of whole lines, for a coupled matrix; lineLength is cols (vocabAxis 0) or rows. */
export interface CoupledPlan {
  /** 0: lines are vocabulary rows, one value per column; 1: lines are hidden units. */
  layout: 0 | 1;
  lineLength: number;
  pieces: Piece[];
}

/** Largest piece allowed under both our limit and the texture limit of the gpu.js mode. */
export function pieceLimit(maxPiece: number, maxTextureSize: number): number {
  const texels = Number.isFinite(maxTextureSize) ? maxTextureSize * maxTextureSize : Infinity;
  return Math.max(1, Math.min(maxPiece, MAX_PIECE, Math.floor(texels / 2)));
}

/**
 * Whole lines per piece, so that the hidden unit of an element follows from its index in the
 * piece; a line longer than a piece is split along its length, one part per piece.
 */
export function planCoupled(shape: CoupledShape, limit: number): CoupledPlan {
  const { rows, cols, vocabAxis } = shape;
  const lineLength = vocabAxis === 0 ? cols : rows;
  const lineCount = vocabAxis === 0 ? rows : cols;
  const pieces: Piece[] = [];
  if (lineLength > limit) {
    for (let line = 0; line < lineCount; line++) {
      for (let offset = 0; offset < lineLength; offset += limit) {
        const width = Math.min(limit, lineLength - offset);
        const start = line * lineLength + offset;
        pieces.push({ start, length: width, firstLine: line, lines: 1, offset, width });
      }
    }
    return { layout: vocabAxis, lineLength, pieces };
  }
  const perPiece = Math.floor(limit / lineLength);
  for (let firstLine = 0; firstLine < lineCount; firstLine += perPiece) {
    const lines = Math.min(perPiece, lineCount - firstLine);
    pieces.push({
      start: firstLine * lineLength,
      length: lines * lineLength,
      firstLine,
      lines,
      offset: 0,
      width: lineLength,
    });
  }
  return { layout: vocabAxis, lineLength, pieces };
}

/** Flat pieces of at most `limit` elements, for AdamW (no lines to respect). */
export function planFlat(length: number, limit: number): Piece[] {
  const pieces: Piece[] = [];
  for (let start = 0; start < length; start += limit) {
    const n = Math.min(limit, length - start);
    pieces.push({ start, length: n, firstLine: 0, lines: 1, offset: start, width: n });
  }
  return pieces;
}

/** Block sizes of the reduction tree over `len` values with B-ary blocks: len, ..., 1. */
export function treeLevels(len: number, B: number): number[] {
  const levels = [len];
  while (len > 1) {
    len = Math.ceil(len / B);
    levels.push(len);
  }
  return levels;
}
