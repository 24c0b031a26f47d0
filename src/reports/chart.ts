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
  const max = Math.max(1, ...points.map((p) => p.total));
  const plot = drawFrame(size, { bottomMargin: 16, gridLines: [0.25, 0.5, 0.75, 1], max });
  const slot = plot.width / Math.max(1, points.length);
  const barWidth = Math.max(1, slot * 0.75);
  points.forEach((p, i) => {
    const x = plot.left + i * slot + (slot - barWidth) / 2;
    let y = plot.bottom;
    for (const [count, color] of [
      [p.negative, COLORS.negative],
      [p.neutral, COLORS.neutral],
      [p.positive, COLORS.positive],
    ] as const) {
      const h = (count / max) * plot.height;
      fillRect(plot.raster, x, y - h, barWidth, h, color);
      y -= h;
    }
  });
  return encodePng(plot.raster);
}

/**
 * A crisis wave's trend as a PNG: posts per window, oldest to newest, the latest window (the one that
 * triggered) in red, the peak written on the axis. What the alert card shows as its small chart.
 */
export function renderTrendChart(values: readonly number[], size = { width: 480, height: 160 }): Buffer {
  const max = Math.max(1, ...values);
  const plot = drawFrame(size, { bottomMargin: 12, gridLines: [0.5, 1], max });
  const slot = plot.width / Math.max(1, values.length);
  const barWidth = Math.max(1, slot * 0.7);
  values.forEach((value, i) => {
    const h = (value / max) * plot.height;
    const color = i === values.length - 1 ? COLORS.negative : COLORS.neutral;
    fillRect(plot.raster, plot.left + i * slot + (slot - barWidth) / 2, plot.bottom - h, barWidth, h, color);
  });
  return encodePng(plot.raster);
}

/** A blank chart: background, grid lines at the given fractions of `max`, both axes, 0 and the peak labelled. */
function drawFrame(
  size: { width: number; height: number },
  { bottomMargin, gridLines, max }: { bottomMargin: number; gridLines: readonly number[]; max: number },
) {
  const raster = createRaster(size.width, size.height, COLORS.background);
  const left = 40;
  const top = 12;
  const bottom = size.height - bottomMargin;
  const width = size.width - left - 10;
  const height = bottom - top;
  for (const fraction of gridLines) fillRect(raster, left, bottom - height * fraction, width, 1, COLORS.grid);
  fillRect(raster, left - 1, top, 1, height + 1, COLORS.axis);
  fillRect(raster, left - 1, bottom, width + 1, 1, COLORS.axis);
  drawDigits(raster, String(max), 4, top, 2, COLORS.axis);
  drawDigits(raster, '0', 4, bottom - 10, 2, COLORS.axis);
  return { raster, left, bottom, width, height };
}
