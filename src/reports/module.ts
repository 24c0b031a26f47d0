import type { ModuleFactory } from '../module.js';
import { renderTrendChart, renderVolumeChart } from './chart.js';
import { CHART_PATH, readChartQuery, readTrendQuery } from './chart-link.js';
import { volumeTimeline } from './summarize.js';

/**
 * Serves report charts at GET /reports/chart.png for the image blocks of summaries, digests and
 * crisis alerts (`?trend=`). Only signed URLs (chartUrl, trendChartUrl with the Slack signing secret)
 * are answered.
 */
export const reportsModule: ModuleFactory = (ctx) => {
  const secret = ctx.config.SLACK_SIGNING_SECRET;
  if (!secret) return null;
  return {
    name: 'reports',
    routes: [
      {
        method: 'GET',
        path: CHART_PATH,
        handler: async (req, res) => {
          const url = new URL(req.url ?? '/', 'http://localhost');
          const headers = { 'content-type': 'image/png', 'cache-control': 'private, max-age=300' };
          if (url.searchParams.has('trend')) {
            const trend = readTrendQuery(url.searchParams, secret);
            if (!trend) {
              res.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden');
              return;
            }
            res.writeHead(200, headers).end(renderTrendChart(trend.trend));
            return;
          }
          const params = readChartQuery(url.searchParams, secret);
          if (!params) {
            res.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden');
            return;
          }
          const { points } = await volumeTimeline(ctx.db, params);
          const png = renderVolumeChart(points);
          res.writeHead(200, headers).end(png);
        },
      },
    ],
  };
};
