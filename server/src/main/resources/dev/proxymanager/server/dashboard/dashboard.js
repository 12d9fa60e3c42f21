// Proxy Manager dashboard: polls api/summary (relative to the page, so any mount path works) and draws it.
// Access rides on the session cookie set when the page was opened with ?token=; nothing secret lives here.
(function () {
  'use strict';

  var PALETTE = ['#2563eb', '#16a34a', '#f59e0b', '#db2777', '#7c3aed', '#0891b2', '#ea580c', '#4b5563',
    '#65a30d', '#dc2626'];
  var CACHE_COLORS = { hit: '#16a34a', miss: '#94a3b8', stale: '#f59e0b', bypass: '#cbd5e1' };
  var OUTCOME_COLORS = { success: '#16a34a', failure: '#dc2626', banned: '#7f1d1d', rate_limited: '#f59e0b',
    timeout: '#ea580c', error: '#b91c1c', client_error: '#64748b' };
  var EVENT_COLORS = { cooldown: '#f59e0b', ban: '#7f1d1d', removed: '#4b5563', restored: '#16a34a' };
  var DEFAULT_REFRESH_MS = 5000;

  var charts = {};
  var timer = null;
  var rangeSelect = document.getElementById('range');

  Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
  Chart.defaults.font.size = 12;
  Chart.defaults.color = '#6b7785';
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.legend.labels.boxWidth = 12;

  function el(id) { return document.getElementById(id); }

  function formatCount(n) { return Number(n).toLocaleString('en-US'); }

  function formatMs(v) { return v === null || v === undefined ? '–' : Math.round(v).toLocaleString('en-US') + ' ms'; }

  function formatRatio(r) { return r === null || r === undefined ? '–' : (r * 100).toFixed(1) + '%'; }

  function two(n) { return n < 10 ? '0' + n : '' + n; }

  function timeLabel(millis, bucketMillis) {
    var d = new Date(millis);
    var hm = two(d.getHours()) + ':' + two(d.getMinutes());
    return bucketMillis < 60000 ? hm + ':' + two(d.getSeconds()) : hm;
  }

  function chart(id, config) {
    if (!charts[id]) {
      charts[id] = new Chart(el(id), config);
    }
    return charts[id];
  }

  // a bar chart of counts over time, one stacked series per endpoint or event
  function stackedBars(id) {
    return chart(id, {
      type: 'bar',
      data: { labels: [], datasets: [] },
      options: {
        scales: { x: { stacked: true, grid: { display: false }, ticks: { maxTicksLimit: 12 } },
                  y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: 'bottom' } }
      }
    });
  }

  function setData(c, labels, datasets) {
    c.data.labels = labels;
    c.data.datasets = datasets;
    c.update();
  }

  function banner(id, text) {
    var b = el(id);
    b.hidden = !text;
    b.textContent = text || '';
  }

  function renderHistory(h, range) {
    if (!h.available) {
      banner('history-banner', 'History unavailable: ' + h.error
        + '. Showing the live engine state only; the charts come back when the request log can be read again.');
      document.querySelector('main').classList.add('history-off');
      return;
    }
    banner('history-banner', null);
    document.querySelector('main').classList.remove('history-off');
    Array.prototype.forEach.call(document.querySelectorAll('.chart-empty:not(.events-empty)'), function (overlay) {
      overlay.hidden = h.totalRequests > 0;
    });
    document.querySelector('.events-empty').hidden = h.eventsOverTime.length > 0;
    el('stat-total').textContent = formatCount(h.totalRequests);
    el('stat-cache-hit-ratio').textContent = formatRatio(h.cacheHitRatio);
    el('stat-failed').textContent = formatCount(h.failedRequests);
    el('stat-p50').textContent = formatMs(h.latency.p50);
    el('stat-p95').textContent = formatMs(h.latency.p95);
    el('stat-p99').textContent = formatMs(h.latency.p99);

    var labels = h.buckets.map(function (b) { return timeLabel(b, range.bucketMillis); });
    setData(stackedBars('chart-requests'), labels, h.requestsByEndpoint.map(function (s, i) {
      return { label: s.endpoint, data: s.counts, backgroundColor: PALETTE[i % PALETTE.length], borderRadius: 2 };
    }));

    setData(chart('chart-cache', {
      type: 'doughnut',
      data: { labels: [], datasets: [] },
      options: { cutout: '62%', plugins: { legend: { position: 'right' } } }
    }), h.cache.map(function (c) { return c.key; }), [{
      label: 'requests',
      data: h.cache.map(function (c) { return c.count; }),
      backgroundColor: h.cache.map(function (c, i) { return CACHE_COLORS[c.key] || PALETTE[i % PALETTE.length]; })
    }]);

    var statuses = h.statuses.slice().sort(function (a, b) { return Number(a.key) - Number(b.key); });
    if (h.noResponse > 0) {
      statuses.push({ key: 'no response', count: h.noResponse });
    }
    setData(chart('chart-status', {
      type: 'bar',
      data: { labels: [], datasets: [] },
      options: { plugins: { legend: { display: false } },
                 scales: { x: { grid: { display: false } }, y: { beginAtZero: true, ticks: { precision: 0 } } } }
    }), statuses.map(function (s) { return s.key; }), [{
      label: 'requests',
      data: statuses.map(function (s) { return s.count; }),
      backgroundColor: statuses.map(function (s) {
        var code = Number(s.key);
        if (!code) { return '#6b7280'; }
        return code < 300 ? '#16a34a' : code < 400 ? '#0891b2' : code === 429 ? '#f59e0b' : code < 500 ? '#ea580c' : '#dc2626';
      }),
      borderRadius: 3
    }]);

    setData(chart('chart-outcomes', {
      type: 'doughnut',
      data: { labels: [], datasets: [] },
      options: { cutout: '62%', plugins: { legend: { position: 'right' } } }
    }), h.outcomes.map(function (o) { return o.key; }), [{
      label: 'requests',
      data: h.outcomes.map(function (o) { return o.count; }),
      backgroundColor: h.outcomes.map(function (o, i) { return OUTCOME_COLORS[o.key] || PALETTE[i % PALETTE.length]; })
    }]);

    hostBars('chart-hosts', h.requestsByHost || [], '#2563eb');
    hostBars('chart-site-bans', h.bansByHost || [], '#dc2626');

    setData(chart('chart-latency', {
      type: 'line',
      data: { labels: [], datasets: [] },
      options: {
        spanGaps: true,
        // points visible: a range with one busy bucket has no line to draw
        elements: { point: { radius: 2 }, line: { borderWidth: 2, cubicInterpolationMode: 'monotone' } },
        interaction: { mode: 'index', intersect: false },
        scales: { x: { grid: { display: false }, ticks: { maxTicksLimit: 12 } }, y: { beginAtZero: true } },
        plugins: { legend: { position: 'bottom' } }
      }
    }), labels, [
      { label: 'p50', data: h.latencyOverTime.p50, borderColor: '#2563eb', backgroundColor: '#2563eb' },
      { label: 'p95', data: h.latencyOverTime.p95, borderColor: '#f59e0b', backgroundColor: '#f59e0b' },
      { label: 'p99', data: h.latencyOverTime.p99, borderColor: '#dc2626', backgroundColor: '#dc2626' }
    ]);

    setData(stackedBars('chart-events'), labels, h.eventsOverTime.map(function (s, i) {
      return { label: s.event, data: s.counts, backgroundColor: EVENT_COLORS[s.event] || PALETTE[i % PALETTE.length],
        borderRadius: 2 };
    }));
  }

  // a horizontal bar per target host (the top ones, largest first)
  function hostBars(id, counts, color) {
    setData(chart(id, {
      type: 'bar',
      data: { labels: [], datasets: [] },
      options: { indexAxis: 'y', plugins: { legend: { display: false } },
                 scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { grid: { display: false } } } }
    }), counts.map(function (c) { return c.key; }), [{
      label: 'requests',
      data: counts.map(function (c) { return c.count; }),
      backgroundColor: color,
      borderRadius: 3
    }]);
  }

  function cell(row, text, className) {
    var td = document.createElement('td');
    if (className) { td.className = className; }
    if (text !== null) { td.textContent = text; }
    row.appendChild(td);
    return td;
  }

  function renderLive(live) {
    var body = el('secrets-body');
    body.textContent = '';
    if (!live.available) {
      banner('live-banner', 'Live engine state unavailable: ' + live.error + '.');
      return;
    }
    banner('live-banner', null);
    if (live.secrets.length === 0) {
      var empty = document.createElement('tr');
      empty.className = 'empty';
      cell(empty, 'No secrets reported yet.').colSpan = 5;
      body.appendChild(empty);
      return;
    }
    live.secrets.forEach(function (s) {
      var row = document.createElement('tr');
      row.className = 'secret-row';
      row.dataset.secretId = s.secretId;
      cell(row, s.endpoint, 'endpoint');
      var id = document.createElement('code');
      id.textContent = s.secretId;
      cell(row, null, 'secret-id').appendChild(id);
      var state = document.createElement('span');
      state.className = 'state state-' + s.state;
      state.textContent = s.state.replace(/_/g, ' ');
      cell(row, null, 'state-cell').appendChild(state);
      var usage = document.createElement('div');
      usage.className = 'usage';
      var bar = document.createElement('div');
      bar.className = 'bar';
      var fill = document.createElement('span');
      var ratio = s.limit > 0 ? Math.min(1, s.usesInWindow / s.limit) : 0;
      fill.style.width = (ratio * 100).toFixed(1) + '%';
      fill.className = ratio >= 1 ? 'full' : ratio >= 0.8 ? 'high' : '';
      bar.appendChild(fill);
      var text = document.createElement('span');
      text.className = 'usage-text';
      // the window closest to binding, as the engine chose it; and why the secret is out, when it is
      text.textContent = (s.limit > 0 ? s.usesInWindow + ' / ' + s.limit + ' per ' + window_(s.windowSeconds)
          : s.usesInWindow + ' uses, no limit') + (s.state === 'ready' ? '' : ' · ' + s.state.replace(/_/g, ' '));
      usage.appendChild(bar);
      usage.appendChild(text);
      if (s.upstream) {
        // what the upstream itself reports left (less our uses since), beside our own count
        var upstream = document.createElement('div');
        upstream.className = 'upstream-text';
        upstream.textContent = 'upstream: ' + upstreamText(s.upstream);
        usage.appendChild(upstream);
      }
      (s.routes || []).forEach(function (r) {
        // a route bucket (limits with a match): its own count, beside the key's
        var route = document.createElement('div');
        route.className = 'route-text';
        route.textContent = 'route ' + r.match + ': ' + r.uses + ' / ' + r.limit + ' per ' + window_(r.windowSeconds)
            + (r.upstream ? ' · upstream: ' + upstreamText(r.upstream) : '');
        usage.appendChild(route);
      });
      cell(row, null, 'usage-cell').appendChild(usage);
      cell(row, s.requestsInRange === null ? '–' : formatCount(s.requestsInRange), 'num requests-in-range');
      body.appendChild(row);
    });
  }

  function upstreamText(u) {
    return u.remaining + (u.limit >= 0 ? ' / ' + u.limit : '') + ' left' + (u.policy ? ' (' + u.policy + ')' : '')
        + ', resets ' + u.reset.substring(11, 19) + ' UTC';
  }

  function window_(seconds) {
    if (seconds % 3600 === 0) { return seconds / 3600 + ' h'; }
    if (seconds % 60 === 0) { return seconds / 60 + ' min'; }
    return seconds + ' s';
  }

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(refresh, ms);
  }

  function refresh() {
    var range = rangeSelect.value;
    fetch('api/summary?range=' + encodeURIComponent(range), { credentials: 'same-origin', cache: 'no-store' })
      .then(function (response) {
        if (response.status === 401) {
          throw new Error('session expired: open the dashboard again with ?token=');
        }
        if (!response.ok) {
          throw new Error('the server answered ' + response.status);
        }
        return response.json();
      })
      .then(function (summary) {
        if (summary.range.name !== rangeSelect.value) {
          return; // an answer for a range no longer selected; the change listener asked for the new one
        }
        renderHistory(summary.history, summary.range);
        renderLive(summary.live);
        var d = new Date(summary.generatedAt);
        el('updated').textContent = 'Updated ' + two(d.getHours()) + ':' + two(d.getMinutes()) + ':' + two(d.getSeconds());
        document.body.dataset.range = summary.range.name;
        document.body.dataset.rangeFrom = String(summary.range.from);
        document.body.dataset.generatedAt = String(summary.generatedAt);
        schedule(summary.refreshMillis || DEFAULT_REFRESH_MS);
      })
      .catch(function (e) {
        el('updated').textContent = 'Update failed: ' + e.message;
        schedule(DEFAULT_REFRESH_MS);
      });
  }

  rangeSelect.addEventListener('change', refresh);
  refresh();
})();
