extension WorklistPage {
    /// The page's CSS: dense enough for a 1366 px laptop, class colours (stat red, urgent orange,
    /// routine blue, bulk grey) and deadline colours (green, yellow, amber, red when late).
    static let style = #"""
        <style>
        :root{--stat:#c62828;--urgent:#e65100;--routine:#1565c0;--bulk:#6d6d6d;--ok:#2e7d32;--soon:#a39100;--close:#ef8f00;--late:#c62828;
          --line:#e2e2e2;--muted:#666;--bg:#f6f7f9}
        *{box-sizing:border-box} [hidden]{display:none!important}
        body{font:13px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1b1b1b;background:var(--bg)}
        header#top{position:sticky;top:0;z-index:5;display:flex;align-items:center;justify-content:space-between;gap:1.2em;padding:.5em 1.2em;
          background:#fff;border-bottom:1px solid var(--line);box-shadow:0 1px 3px rgba(0,0,0,.05)}
        .title{display:flex;align-items:baseline;gap:.8em} h1{font-size:1.2em;margin:0} .title a{color:var(--routine);font-size:.95em}
        .chips{display:flex;gap:.4em;flex-wrap:wrap;margin:0 0 .7em}
        .chip{border:1px solid var(--line);border-radius:1em;padding:.05em .65em;background:#fff;white-space:nowrap}
        .chip i{display:inline-block;width:.6em;height:.6em;border-radius:50%;margin:0 .2em 0 .5em;font-style:normal} .chip i:first-of-type{margin-left:.3em}
        .chip b{font-variant-numeric:tabular-nums} .chip.bad{background:#fdecea;border-color:#f5c2c0;color:var(--late)}
        .chip.warn{background:#fff4e0;border-color:#f6d49a;color:#8a4b00}
        .updated{color:var(--muted);white-space:nowrap} .updated.err{color:var(--late);white-space:normal}
        main{padding:.8em 1.2em 2em}
        section{background:#fff;border:1px solid var(--line);border-radius:6px;padding:.6em .9em .8em;margin:0 0 1em}
        h2{font-size:1.02em;margin:.1em 0 .5em;display:flex;align-items:center;gap:.6em} .count{color:var(--muted);font-weight:400}
        .band{border-left:5px solid var(--ok)} .band.alarm{border-left-color:var(--late);background:#fffafa}
        .band.amber{border-left-color:var(--close);background:#fffdf7}
        table{border-collapse:collapse;width:100%}
        th,td{text-align:left;padding:.3em .5em;border-bottom:1px solid var(--line);vertical-align:top}
        th{background:#f3f4f6;font-weight:600;font-size:.92em;white-space:nowrap}
        td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
        tr.item{cursor:pointer} tr.item:hover td{background:#f4f8ff} tr.item.selected td{background:#e8f0fe}
        tr.overdue td:first-child{box-shadow:inset 4px 0 0 var(--late)} tr.orphan td:first-child{box-shadow:inset 4px 0 0 var(--close)}
        tr.overdue td{background:#fff3f2} tr.orphan td{background:#fff8e6}
        .tag{display:inline-block;border-radius:3px;padding:0 .4em;font-size:.85em;font-weight:600;white-space:nowrap}
        .tag.overdue{background:var(--late);color:#fff} .tag.orphan{background:var(--close);color:#fff}
        .cls{display:inline-block;min-width:4.6em;text-align:center;border-radius:3px;padding:0 .35em;color:#fff;font-weight:600;font-size:.85em}
        .cls-stat{background:var(--stat)} .cls-urgent{background:var(--urgent)} .cls-routine{background:var(--routine)} .cls-bulk{background:var(--bulk)}
        .desc{font-weight:500} .sub{color:var(--muted);font-size:.88em} .uid{font-family:ui-monospace,Menlo,monospace;font-size:.95em}
        .muted{color:var(--muted)} .flag{color:#8a4b00;font-size:.88em} .late{color:var(--late);font-weight:600}
        .state{white-space:nowrap}
        .dl{min-width:10.5em;max-width:16em} .dl-bar{height:6px;border-radius:3px;background:#e7e7e7;overflow:hidden;margin:.35em 0 .15em}
        .dl-bar span{display:block;height:100%}
        .dl-ok .dl-bar span{background:var(--ok)} .dl-soon .dl-bar span{background:var(--soon)}
        .dl-close .dl-bar span{background:var(--close)} .dl-late .dl-bar span{background:var(--late)}
        .dl-late .dl-text{color:var(--late);font-weight:600} .dl-close .dl-text{color:#a35f00;font-weight:600}
        .actions{white-space:nowrap} .actions select{max-width:11em}
        button{font:inherit;padding:.1em .6em;border:1px solid #bbb;border-radius:4px;background:#fff;cursor:pointer}
        button:hover{background:#f0f0f0} button:disabled{opacity:.45;cursor:default}
        select{font:inherit;padding:.1em .2em;max-width:14em}
        .action-msg{font-size:.88em;white-space:normal;max-width:22em} .action-msg.err{color:var(--late)} .action-msg.ok{color:var(--ok)}
        .filters{display:flex;gap:.3em 1em;flex-wrap:wrap;align-items:center;margin:.1em 0 .6em}
        .filters label{color:var(--muted);white-space:nowrap} .filters select{color:#1b1b1b;margin-left:.25em;max-width:10em}
        .pager{display:flex;gap:.8em;align-items:center;justify-content:flex-end;margin-top:.5em;color:var(--muted)}
        .layout{display:grid;grid-template-columns:minmax(0,1fr) 440px;gap:1em;align-items:start}
        .side section{margin:0 0 1em}
        @media (max-width:1279px){.layout{grid-template-columns:1fr} .side{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1.3fr);gap:1em}}
        @media (max-width:900px){.side{grid-template-columns:1fr}}
        .site{padding:.45em 0;border-bottom:1px solid var(--line)} .site:last-child{border-bottom:0}
        .site-head{display:flex;gap:.5em;align-items:baseline;flex-wrap:wrap} .site-head .skills{color:var(--muted);font-size:.88em}
        .badge{font-size:.8em;border-radius:3px;padding:0 .4em;border:1px solid}
        .badge.in{color:var(--ok);border-color:#a5d6a7} .badge.out{color:var(--muted);border-color:#ccc;background:#f3f3f3}
        .badge.gone{color:var(--late);border-color:#f5c2c0}
        .load-track{position:relative;height:14px;background:#eef0f3;border-radius:3px;margin:.3em 0 .2em}
        .load-bar{position:absolute;left:0;top:0;bottom:0;border-radius:3px;background:var(--ok)}
        .load-bar.high{background:var(--close)} .load-bar.over{background:var(--late)}
        .cap-marker{position:absolute;top:-3px;bottom:-3px;width:2px;background:#222}
        .cap-marker::after{content:"100%";position:absolute;top:-1.25em;left:-1em;font-size:.72em;color:var(--muted)}
        .site-foot{color:var(--muted);font-size:.88em} .failing{color:var(--late);font-weight:600}
        .toggle{margin-left:auto;display:inline-flex} .toggle button{border-radius:0;font-weight:400;font-size:.9em}
        .toggle button:first-child{border-radius:4px 0 0 4px} .toggle button:last-child{border-radius:0 4px 4px 0;border-left:0}
        .toggle button.on{background:#1b1b1b;color:#fff;border-color:#1b1b1b}
        #chart svg{width:100%;height:auto;display:block}
        #chart .grid{stroke:#eceff3} #chart .axis{stroke:#888} #chart text{font-size:11px;fill:#555}
        #chart .series{fill:none;stroke-width:2.2;stroke-linejoin:round} #chart .empty{font-size:13px;fill:#888}
        .legend{display:flex;gap:.2em 1.1em;flex-wrap:wrap;font-size:.9em;margin-top:.2em}
        .legend span.sw{display:inline-block;width:14px;height:3px;vertical-align:middle;margin-right:.35em}
        .legend .none{color:#999}
        aside#detail{position:fixed;top:0;right:0;bottom:0;width:min(640px,94vw);z-index:10;background:#fff;overflow:auto;
          border-left:1px solid #ccc;box-shadow:-4px 0 16px rgba(0,0,0,.12);padding:.8em 1.1em 2em}
        #detail h3{font-size:1.05em;margin:1.1em 0 .4em} #detail .close{float:right;font-size:1.1em}
        #detail dl{display:grid;grid-template-columns:9.5em 1fr;gap:.15em .8em;margin:.4em 0} #detail dt{color:var(--muted)}
        #detail dd{margin:0;word-break:break-all} #detail .reason{background:#f6f7f9;border-radius:4px;padding:.4em .6em}
        .yes{color:var(--ok)} .no{color:var(--late)} tr.chosen td{background:#edf7ee} tr.chosen td:first-child{font-weight:600}
        table.candidates td,table.candidates th{font-size:.95em} .mini{font-size:.78em;color:var(--muted);border:1px solid #ccc;border-radius:3px;padding:0 .3em;margin-left:.3em}
        .detail-actions{margin:.2em 0 .6em} #history td:first-child{white-space:nowrap}
        </style>

        """#
}
