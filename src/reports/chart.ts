import { createRaster, drawDigits, encodePng, fillRect, type Rgba } from './png.js';
import type { TimelinePoint } from './summarize.js';

const COLORS = {
  background: [255, 255, 255, 255] as Rgba,
  axis: [120, 120, 120, 255] as Rgba,
  grid: [230, 230, 230, 255] as Rgba,
  negative: [224, 30, 90, 255] as Rgba,
  neutral: [160, 166, 175, 255] as Rgba,
  positive: [46, 182, 125, 255] as Rgba,
};

/**
 * Volume and sentiment over time as a PNG: one stacked bar per bucket (negative at the bottom in
 * red, neutral grey, positive green), the peak written on the axis. Rendered in-process with no
 * native dependency, so it works the same on every replica.
 */
export function renderVolumeChart(points: readonly TimelinePoint[], size = { width: 600, height: 240 }): Buffer {
  const { width, height } = size;
  const r = createRaster(width, height, COLORS.background);
  const left = 40;
  const bottom = height - 16;
  const top = 12;
  const plotWidth = width - left - 10;
  const plotHeight = bottom - top;
  const max = Math.max(1, ...points.map((p) => p.total));
  for (const fraction of [0.25, 0.5, 0.75, 1])
    fillRect(r, left, bottom - plotHeight * fraction, plotWidth, 1, COLORS.grid);
  fillRect(r, left - 1, top, 1, plotHeight + 1, COLORS.axis);
  fillRect(r, left - 1, bottom, plotWidth + 1, 1, COLORS.axis);
  drawDigits(r, String(max), 4, top, 2, COLORS.axis);
  drawDigits(r, '0', 4, bottom - 10, 2, COLORS.axis);
  const n = Math.max(1, points.length);
  const slot = plotWidth / n;
  const barWidth = Math.max(1, slot * 0.75);
  points.forEach((p, i) => {
    const x = left + i * slot + (slot - barWidth) / 2;
    let y = bottom;
    for (const [count, color] of [
      [p.negative, COLORS.negative],
      [p.neutral, COLORS.neutral],
      [p.positive, COLORS.positive],
    ] as const) {
      const h = (count / max) * plotHeight;
      fillRect(r, x, y - h, barWidth, h, color);
      y -= h;
    }
  });
  return encodePng(r);
}

/**
 * A crisis wave's trend as a PNG: posts per window, oldest to newest, the latest window (the one that
 * triggered) in red, the peak written on the axis. What the alert card shows as its small chart.
 */
export function renderTrendChart(values: readonly number[], size = { width: 480, height: 160 }): Buffer {
  const { width, height } = size;
  const r = createRaster(width, height, COLORS.background);
  const left = 40;
  const bottom = height - 12;
  const top = 12;
  const plotWidth = width - left - 10;
  const plotHeight = bottom - top;
  const max = Math.max(1, ...values);
  for (const fraction of [0.5, 1]) fillRect(r, left, bottom - plotHeight * fraction, plotWidth, 1, COLORS.grid);
  fillRect(r, left - 1, top, 1, plotHeight + 1, COLORS.axis);
  fillRect(r, left - 1, bottom, plotWidth + 1, 1, COLORS.axis);
  drawDigits(r, String(max), 4, top, 2, COLORS.axis);
  drawDigits(r, '0', 4, bottom - 10, 2, COLORS.axis);
  const slot = plotWidth / Math.max(1, values.length);
  const barWidth = Math.max(1, slot * 0.7);
  values.forEach((value, i) => {
    const h = (value / max) * plotHeight;
    const color = i === values.length - 1 ? COLORS.negative : COLORS.neutral;
    fillRect(r, left + i * slot + (slot - barWidth) / 2, bottom - h, barWidth, h, color);
  });
  return encodePng(r);
}
