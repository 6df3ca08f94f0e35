// The status page: polls /status/server and /metrics, keeps five minutes of samples, and shows
// rates, latency percentiles and 429s from the differences between samples. Times are the
// server's (server_current_time), so rates stay right whatever the browser's clock does.
'use strict';

const POLL_MS = 2000;
const WINDOW_MS = 5 * 60 * 1000;
const KEY = 'bert-serving-api-key';
const samples = [];

const $ = (id) => document.getElementById(id);

function setText(id, value) {
  const el = $(id);
  if (el) el.textContent = value;
}

/** Prometheus' text format: name -> [{labels, value}]. */
function parseMetrics(text) {
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)$/);
    if (!m) continue;
    const labels = {};
    for (const pair of (m[3] || '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
    (out[m[1]] = out[m[1]] || []).push({ labels, value: Number(m[4]) });
  }
  return out;
}

function one(metrics, name, match = {}) {
  const found = (metrics[name] || []).find((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v));
  return found ? found.value : 0;
}

function sample(status, metrics) {
  const buckets = (metrics.bert_request_duration_seconds_bucket || [])
    .map((s) => ({ le: s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), count: s.value }))
    .sort((a, b) => a.le - b.le);
  const perWorker = {};
  for (const s of metrics.bert_worker_rows_total || []) perWorker[s.labels.worker] = s.value;
  return {
    t: Date.parse(status.server_current_time),
    rows: one(metrics, 'bert_rows_total'),
    requests: one(metrics, 'bert_requests_total'),
    refused: one(metrics, 'bert_replies_total', { status: '429' }),
    queued: one(metrics, 'bert_queued_rows'),
    pending: one(metrics, 'bert_pending_rows'),
    buckets,
    perWorker,
  };
}

/** The sample closest to {@code ms} before the newest, or the oldest one. */
function before(ms) {
  const newest = samples[samples.length - 1];
  let pick = samples[0];
  for (const s of samples) if (s.t <= newest.t - ms) pick = s;
  return pick;
}

function rate(now, then, field) {
  const seconds = (now.t - then.t) / 1000;
  return seconds > 0 ? (now[field] - then[field]) / seconds : 0;
}

/** histogram_quantile over the difference of two cumulative histograms (or the newest alone). */
function quantile(q, now, then) {
  const counts = now.buckets.map((b, i) => b.count - (then ? then.buckets[i]?.count || 0 : 0));
  const total = counts[counts.length - 1] || 0;
  if (total <= 0) return null;
  const rank = q * total;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] >= rank) {
      const upper = now.buckets[i].le;
      const lower = i === 0 ? 0 : now.buckets[i - 1].le;
      if (upper === Infinity) return lower;
      const below = i === 0 ? 0 : counts[i - 1];
      const inBucket = counts[i] - below;
      return lower + (upper - lower) * (inBucket > 0 ? (rank - below) / inBucket : 1);
    }
  }
  return null;
}

function fmt(x, digits = 1) {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  return Number(x).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : `${m}m ${s % 60}s`;
}

function row(tbody, cells) {
  const tr = document.createElement('tr');
  for (const c of cells) {
    const td = document.createElement('td');
    td.textContent = c === null || c === undefined ? '' : String(c);
    tr.appendChild(td);
  }
  tbody.appendChild(tr);
}

function table(id, rows) {
  const tbody = $(id).querySelector('tbody');
  tbody.replaceChildren();
  for (const r of rows) row(tbody, r);
}

const SVG = 'http://www.w3.org/2000/svg';

function line(id, points) {
  const svg = $(id);
  svg.replaceChildren();
  if (points.length < 2) return;
  const t0 = points[0][0], t1 = points[points.length - 1][0];
  const top = Math.max(1, ...points.map((p) => p[1]));
  const poly = document.createElementNS(SVG, 'polyline');
  poly.setAttribute('points', points.map(([t, v]) =>
    `${((t - t0) / Math.max(1, t1 - t0) * 300).toFixed(1)},${(78 - v / top * 74).toFixed(1)}`).join(' '));
  svg.appendChild(poly);
}

function bars(id, points) {
  const svg = $(id);
  svg.replaceChildren();
  const top = Math.max(1, ...points.map((p) => p[1]));
  const width = 300 / Math.max(1, points.length);
  points.forEach(([, v], i) => {
    if (v <= 0) return;
    const r = document.createElementNS(SVG, 'rect');
    const h = v / top * 74;
    r.setAttribute('x', (i * width).toFixed(1));
    r.setAttribute('y', (78 - h).toFixed(1));
    r.setAttribute('width', Math.max(1, width - 1).toFixed(1));
    r.setAttribute('height', h.toFixed(1));
    svg.appendChild(r);
  });
}

function render(status) {
  const now = samples[samples.length - 1];
  const minute = before(60 * 1000);
  const recent = before(POLL_MS * 2.5);
  setText('model', status.model);
  setText('version', status.server_version);
  setText('uptime', duration(now.t - Date.parse(status.server_start_time)));
  setText('updated', new Date(now.t).toLocaleTimeString());
  setText('rows-per-second', fmt(rate(now, recent, 'rows')));
  setText('requests-per-second', fmt(rate(now, recent, 'requests')));
  const windowed = now.buckets.length && minute !== now && quantile(1, now, minute) !== null;
  for (const [id, q] of [['latency-p50', 0.5], ['latency-p95', 0.95], ['latency-p99', 0.99]]) {
    const seconds = windowed ? quantile(q, now, minute) : quantile(q, now, null);
    setText(id, seconds === null ? '–' : fmt(seconds * 1000, 0));
  }
  setText('latency-scope', windowed ? 'last minute' : 'since start (no request in the last minute)');
  setText('queued-rows', fmt(now.queued, 0));
  setText('pending-rows', fmt(now.pending, 0));
  setText('refused-1m', fmt(now.refused - minute.refused, 0));
  setText('refused-5m', fmt(now.refused - samples[0].refused, 0));
  setText('workers-count', fmt(status.num_workers, 0));
  setText('capacity', fmt(status.capacity_tokens_per_second, 0));

  const points = samples.slice(1).map((s, i) => [s.t, rate(s, samples[i], 'rows')]);
  line('chart-rows', points);
  line('chart-queue', samples.map((s) => [s.t, s.queued]));
  bars('chart-refused', samples.slice(1).map((s, i) => [s.t, s.refused - samples[i].refused]));

  // each model as its workers described it: the routes serve it by its kind
  table('models', (status.models || []).map((m) => [m.model, m.kind, m.default ? 'yes' : '',
    m.workers, m.max_seq_len, m.pooling_strategy, fmt(m.capacity_tokens_per_second, 0),
    m.backlog_seconds, fmt(m.queued_rows, 0)]));
  table('workers', (status.workers || []).map((w) => {
    const cut = w.worker.lastIndexOf('/');
    const rowsNow = now.perWorker[w.worker] || 0;
    const rowsThen = recent.perWorker[w.worker] || 0;
    const seconds = (now.t - recent.t) / 1000;
    return [w.worker.slice(0, cut), w.worker.slice(cut + 1), w.device, w.jobs_in_flight,
      fmt(seconds > 0 ? (rowsNow - rowsThen) / seconds : 0), fmt(rowsNow, 0), w.tensorflow];
  }));
  table('members', (status.cluster_members || []).map((m) => [m.address, m.status, (m.roles || [])
    .filter((r) => !r.startsWith('dc-')).join(', ')]));
  const flags = ['model', 'model_dir', 'max_seq_len', 'pooling_strategy', 'pooling_layer', 'normalize',
    'prompt', 'num_worker', 'device_map', 'max_batch_size', 'priority_batch_size', 'prefetch_size',
    'fp16', 'xla', 'request_timeout_ms', 'max_pending_rows', 'cors', 'show_tokens_to_client'];
  table('flags', flags.filter((f) => f in status).map((f) =>
    [f, typeof status[f] === 'string' ? status[f] : JSON.stringify(status[f])]));
}

async function poll() {
  const key = sessionStorage.getItem(KEY);
  try {
    const [statusResponse, metricsResponse] = await Promise.all([
      fetch('/status/server', { headers: key ? { Authorization: `Bearer ${key}` } : {} }),
      fetch('/metrics')]);
    if (statusResponse.status === 401) {
      document.body.dataset.state = 'key';
      setText('state', 'API key needed');
      $('key-form').hidden = false;
      return;
    }
    if (!statusResponse.ok || !metricsResponse.ok) throw new Error(`HTTP ${statusResponse.status}`);
    const status = await statusResponse.json();
    samples.push(sample(status, parseMetrics(await metricsResponse.text())));
    while (samples.length > 2 && samples[samples.length - 1].t - samples[0].t > WINDOW_MS) samples.shift();
    render(status);
    $('key-form').hidden = true;
    document.body.dataset.state = 'live';
    setText('state', 'live');
  } catch (e) {
    document.body.dataset.state = 'error';
    setText('state', `no answer (${e.message})`);
  }
}

$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(KEY, $('key').value.trim());
  poll();
});

poll();
setInterval(poll, POLL_MS);
