extension WorklistPage {
    /// The turnaround chart, drawn by the page as inline SVG: the median turnaround per bucket,
    /// one line per class (only buckets with reports are points; a line joins a class's points),
    /// a time axis for the window, a logarithmic value axis (stat work takes minutes, routine days), a legend with each
    /// class's report count, and each point's count, median and 90th percentile as its tooltip.
    static let chartScript = #"""
        const CLASS_COLOURS = {stat: '#c62828', urgent: '#e65100', routine: '#1565c0', bulk: '#6d6d6d'};
        // Value-axis marks: stat work is measured in minutes, routine in days, so the axis is logarithmic.
        const MARKS = [[60, '1 min'], [300, '5 min'], [900, '15 min'], [1800, '30 min'], [3600, '1 h'], [4 * 3600, '4 h'], [12 * 3600, '12 h'],
                       [86400, '1 d'], [3 * 86400, '3 d'], [7 * 86400, '7 d'], [28 * 86400, '28 d'], [90 * 86400, '90 d']];
        function timeTicks(x0, x1, window) {
          const out = [], d = new Date(x0);
          if (window === '7d') {
            d.setHours(24, 0, 0, 0);
            for (; +d <= x1; d.setDate(d.getDate() + 1)) out.push({t: +d, label: d.toLocaleDateString([], {weekday: 'short', day: 'numeric'})});
          } else {
            d.setMinutes(0, 0, 0);
            d.setHours(d.getHours() + 1);
            while (d.getHours() % 3) d.setHours(d.getHours() + 1);
            for (; +d <= x1; d.setHours(d.getHours() + 3)) out.push({t: +d, label: String(d.getHours()).padStart(2, '0') + ':00'});
          }
          return out;
        }
        function drawChart(t) {
          const W = Math.max(360, Math.round($('chart').clientWidth || 640)), H = 250, L = 60, R = 14, T = 12, B = 30;
          const span = (t.window === '7d' ? 7 : 1) * 86400e3, bucket = (t.bucket_seconds || 3600) * 1e3;
          const x1 = Date.now(), x0 = x1 - span;
          const known = CLASSES.concat((t.series || []).map(s => s.class).filter(c => !CLASSES.includes(c)));
          const series = known.map(c => ({cls: c, points: ((t.series || []).find(s => s.class === c) || {points: []}).points}));
          const all = series.flatMap(s => s.points);
          const values = all.map(p => Math.max(1, p.median_seconds));
          const low = Math.min(...values, 900), high = Math.max(...values, 4 * 3600);  // at least 15 min to 4 h
          const marks = MARKS.slice(Math.max(0, MARKS.findLastIndex(m => m[0] <= low)), MARKS.findIndex(m => m[0] >= high) + 1 || MARKS.length);
          const y0 = Math.log(Math.min(marks[0][0], low)), y1 = Math.log(Math.max(marks[marks.length - 1][0], high));
          const X = ms => L + (Math.min(Math.max(ms, x0), x1) - x0) / (x1 - x0) * (W - L - R);
          const Y = seconds => T + (1 - (Math.log(Math.max(1, seconds)) - y0) / (y1 - y0)) * (H - T - B);
          const f = v => v.toFixed(1);
          const per = bucket % 3600e3 ? dur(bucket / 1e3) : bucket / 3600e3 + ' h';
          let svg = '<svg id="turnaround-chart" data-window="' + esc(t.window) + '" viewBox="0 0 ' + W + ' ' + H + '" role="img" aria-label="median turnaround per class, ' +
            (t.window === '7d' ? 'last 7 days' : 'last 24 hours') + '">';
          for (const [seconds, label] of marks) {
            const y = f(Y(seconds));
            svg += '<line class="grid" x1="' + L + '" x2="' + (W - R) + '" y1="' + y + '" y2="' + y + '"/>' +
              '<text x="' + (L - 6) + '" y="' + (+y + 4) + '" text-anchor="end">' + label + '</text>';
          }
          for (const tick of timeTicks(x0, x1, t.window)) {
            const x = f(X(tick.t));
            svg += '<line class="axis" x1="' + x + '" x2="' + x + '" y1="' + (H - B) + '" y2="' + (H - B + 4) + '"/>' +
              '<text class="xlab" x="' + x + '" y="' + (H - B + 16) + '" text-anchor="middle">' + esc(tick.label) + '</text>';
          }
          svg += '<line class="axis" x1="' + L + '" x2="' + (W - R) + '" y1="' + (H - B) + '" y2="' + (H - B) + '"/>' +
            '<line class="axis" x1="' + L + '" x2="' + L + '" y1="' + T + '" y2="' + (H - B) + '"/>' +
            '<text x="12" y="' + (T + (H - T - B) / 2) + '" text-anchor="middle" transform="rotate(-90 12 ' + (T + (H - T - B) / 2) + ')">median (log scale)</text>';
          for (const s of series) {
            if (!s.points.length) continue;
            const colour = CLASS_COLOURS[s.cls] || '#333';
            const at = s.points.map(p => [X(Date.parse(p.start) + bucket / 2), Y(p.median_seconds), p]);
            svg += '<path class="series" data-class="' + esc(s.cls) + '" data-points="' + at.length + '" stroke="' + colour + '" d="' +
              at.map((q, i) => (i ? 'L' : 'M') + f(q[0]) + ' ' + f(q[1])).join(' ') + '"/>';
            for (const [x, y, p] of at) {
              svg += '<circle class="point" data-class="' + esc(s.cls) + '" cx="' + f(x) + '" cy="' + f(y) + '" r="3.2" fill="' + colour + '"><title>' +
                esc(s.cls + ', ' + when(p.start) + ' + ' + per + ': ' + p.count + ' report' + (p.count === 1 ? '' : 's') +
                    ', median ' + dur(p.median_seconds) + ', 90th percentile ' + dur(p.p90_seconds)) + '</title></circle>';
            }
          }
          if (!all.length) {
            svg += '<text class="empty" x="' + (L + (W - L - R) / 2) + '" y="' + (T + (H - T - B) / 2) + '" text-anchor="middle">No reports in the ' +
              (t.window === '7d' ? 'last 7 days' : 'last 24 hours') + '</text>';
          }
          svg += '</svg>';
          const legend = series.map(s => {
            const n = s.points.reduce((a, p) => a + p.count, 0);
            return '<span class="' + (n ? '' : 'none') + '" data-legend="' + esc(s.cls) + '"><span class="sw" style="background:' + (CLASS_COLOURS[s.cls] || '#333') + '"></span>' +
              esc(s.cls) + ' (' + (n ? n + ' report' + (n === 1 ? '' : 's') : 'none') + ')</span>';
          }).join('');
          $('chart').innerHTML = svg + '<div class="legend">' + legend + '</div><div class="sub">Each point: the reports of one ' + per + ' bucket, by when they came; hover for count and 90th percentile.</div>';
        }

        """#
}
