import { HIDDEN_SOURCE } from '../text/visible.js';

/**
 * The report page's style and script, inlined into every page: no network, no CDN. The script reads the
 * JSON in `<script id="report-data">`, draws a zoomable treemap of sizes by folder and runs the path search.
 * Plain ES2020 so any current browser runs it as is.
 */
export const PAGE_STYLE = `
:root { color-scheme: light; font: 14px/1.4 system-ui, sans-serif; color: #1d232a; background: #f6f7f9; }
body { margin: 0; }
header { background: #1d2b3a; color: #fff; padding: 16px 24px; }
header h1 { margin: 0; font-size: 20px; word-break: break-all; }
header p { margin: 4px 0 0; color: #c9d4df; font-size: 13px; }
main { padding: 16px 24px; display: grid; gap: 16px; }
section { background: #fff; border: 1px solid #dde2e8; border-radius: 6px; padding: 12px 16px; overflow-x: auto; }
h2 { margin: 0 0 8px; font-size: 16px; }
h3 { margin: 12px 0 4px; font-size: 14px; }
.cards { display: flex; flex-wrap: wrap; gap: 8px; }
.card { border: 1px solid #dde2e8; border-radius: 6px; padding: 6px 12px; min-width: 90px; }
.card b { display: block; font-size: 18px; }
.card span { color: #5b6570; font-size: 12px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { text-align: left; padding: 2px 10px 2px 0; white-space: nowrap; }
th { color: #5b6570; font-weight: 600; border-bottom: 1px solid #dde2e8; }
td.num, th.num { text-align: right; }
td.path, td.mono { font-family: ui-monospace, monospace; white-space: pre; }
.share { display: inline-block; height: 8px; background: #4a7fb5; vertical-align: middle; }
.muted, .note { color: #5b6570; }
#crumbs { font-family: ui-monospace, monospace; margin-bottom: 6px; }
#crumbs a { color: #245a94; cursor: pointer; text-decoration: underline; }
#treemap { position: relative; height: 460px; border: 1px solid #dde2e8; overflow: hidden; background: #eef1f4; }
.cell { position: absolute; box-sizing: border-box; border: 1px solid #fff; overflow: hidden; font-size: 12px;
  padding: 2px 4px; color: #10161c; white-space: nowrap; text-overflow: ellipsis; }
.cell.dir { cursor: zoom-in; }
.cell .size { color: #33414f; margin-left: 4px; }
.with-layers { display: grid; grid-template-columns: minmax(0, 1fr) 320px; gap: 12px; }
#layers h3 { margin-top: 0; }
#layer-list { list-style: none; margin: 0; padding: 0; max-height: 420px; overflow-y: auto; }
#layer-list li { margin: 2px 0; font-size: 12px; }
#layer-list .by { display: block; font-family: ui-monospace, monospace; color: #5b6570; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
button.layer { width: 100%; text-align: left; font: inherit; padding: 4px 6px; border: 1px solid #dde2e8; border-radius: 4px; background: #fff; cursor: pointer; }
button.layer[aria-pressed="true"] { border-color: #e8590c; background: #fff4e6; }
.empty-step { padding: 2px 7px; }
#layer-added li { cursor: pointer; color: #245a94; }
#layer-detail ul { margin: 4px 0; padding-left: 18px; font-family: ui-monospace, monospace; font-size: 12px; }
.cell.hit { background: #e8590c !important; color: #fff; }
.cell.hit .size { color: #fff; }
.cell.dim { opacity: 0.3; }
#search-box { width: min(600px, 100%); padding: 6px 8px; font: inherit; border: 1px solid #b7c0ca; border-radius: 4px; }
#search-results td.path { cursor: pointer; color: #245a94; }
.esc { font-family: ui-monospace, monospace; color: #8a1c1c; background: #fde4e4; border-radius: 2px; padding: 0 1px; }
`;

export const PAGE_SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var e = data.entries;
  var TYPES = { f: 'file', d: 'dir', l: 'symlink', h: 'hardlink', p: 'fifo', c: 'char', b: 'block' };

  function humanSize(bytes) {
    if (bytes < 1024) return String(bytes);
    var units = ['K', 'M', 'G', 'T', 'P', 'E'];
    var divisor = 1;
    for (var i = 0; i < units.length; i++) {
      divisor *= 1024;
      var tenths = Math.ceil((bytes * 10) / divisor);
      if (tenths < 100) return (tenths / 10).toFixed(1) + units[i];
      var whole = Math.ceil(bytes / divisor);
      if (whole < 1024) return whole + units[i];
    }
    return Math.ceil(bytes / divisor) + 'E';
  }
  function modeString(type, mode) {
    var t = { f: '-', h: '-', d: 'd', l: 'l', p: 'p', c: 'c', b: 'b' }[type];
    function bit(mask, c) { return mode & mask ? c : '-'; }
    function special(x, flag, c) { return mode & flag ? (mode & x ? c : c.toUpperCase()) : mode & x ? 'x' : '-'; }
    return t + bit(256, 'r') + bit(128, 'w') + special(64, 2048, 's') + bit(32, 'r') + bit(16, 'w') +
      special(8, 1024, 's') + bit(4, 'r') + bit(2, 'w') + special(1, 512, 't');
  }
  // Hidden characters (controls, bidi, format, bytes that were not UTF-8) as the report's text shows them:
  // an escape, in a span of class esc, so no name can reorder or hide what the page shows.
  var HIDDEN = new RegExp(${JSON.stringify(HIDDEN_SOURCE)}, 'gu');
  var NAMED = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 27: '\\e' };
  function hex(value, digits) { var s = value.toString(16); while (s.length < digits) s = '0' + s; return s; }
  function escapeCharacter(c) {
    var code = c.codePointAt(0);
    if (NAMED[code]) return NAMED[code];
    if (code < 32 || code === 127) return '\\x' + hex(code, 2);
    if (code >= 0xdc80 && code <= 0xdcff) return '\\x' + hex(code - 0xdc00, 2);
    if (code <= 0xffff) return '\\u' + hex(code, 4);
    return '\\U' + hex(code, 8);
  }
  /** Plain text with escapes, for tooltips and the search. */
  function shown(text) { return text.replace(HIDDEN, escapeCharacter); }
  function appendMarked(node, text) {
    var last = 0;
    text.replace(HIDDEN, function (c, index) {
      if (index > last) node.appendChild(document.createTextNode(text.slice(last, index)));
      node.appendChild(el('span', { class: 'esc' }, escapeCharacter(c)));
      last = index + c.length;
      return c;
    });
    if (last < text.length) node.appendChild(document.createTextNode(text.slice(last)));
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var key in attrs) node.setAttribute(key, attrs[key]);
    if (text !== undefined) appendMarked(node, String(text));
    return node;
  }

  // Folder tree: entries are sorted by path, so a parent always comes before its children.
  var root = { name: '/', path: '', size: 0, dir: true, children: [] };
  var nodes = new Map([['', root]]);
  var order = [];
  for (var i = 0; i < e.p.length; i++) {
    var path = e.p[i];
    var slash = path.lastIndexOf('/');
    var parent = nodes.get(slash < 0 ? '' : path.slice(0, slash));
    if (!parent) continue;
    var type = e.t[i];
    var node = { name: path.slice(slash + 1), path: path, size: type === 'f' ? e.s[i] : 0, dir: type === 'd', parent: parent, children: type === 'd' ? [] : null, layer: e.y ? e.y[i] : -1, hit: 0 };
    parent.children.push(node);
    order.push(node);
    if (node.dir) nodes.set(path, node);
  }
  for (var j = order.length - 1; j >= 0; j--) order[j].parent.size += order[j].size;

  // Squarified treemap (Bruls, Huizing, van Wijk): rows of items whose worst aspect ratio is smallest.
  function squarify(items, x, y, w, h) {
    var total = 0;
    items.forEach(function (it) { total += it.size; });
    var out = [];
    if (total <= 0 || w <= 0 || h <= 0) return out;
    var scale = (w * h) / total;
    var row = [];
    function worst(list, side) {
      var sum = 0, max = 0, min = Infinity;
      list.forEach(function (a) { sum += a; if (a > max) max = a; if (a < min) min = a; });
      return Math.max((side * side * max) / (sum * sum), (sum * sum) / (side * side * min));
    }
    function flush() {
      var areas = row.map(function (it) { return it.size * scale; });
      var sum = areas.reduce(function (p, q) { return p + q; }, 0);
      if (w >= h) {
        var width = sum / h, cy = y;
        row.forEach(function (it, k) { var hh = areas[k] / width; out.push({ node: it, x: x, y: cy, w: width, h: hh }); cy += hh; });
        x += width; w -= width;
      } else {
        var height = sum / w, cx = x;
        row.forEach(function (it, k) { var ww = areas[k] / height; out.push({ node: it, x: cx, y: y, w: ww, h: height }); cx += ww; });
        y += height; h -= height;
      }
      row = [];
    }
    items.forEach(function (it) {
      var side = Math.min(w, h);
      var areas = row.map(function (r) { return r.size * scale; });
      if (row.length === 0 || worst(areas.concat(it.size * scale), side) <= worst(areas, side)) row.push(it);
      else { flush(); row.push(it); }
    });
    if (row.length) flush();
    return out;
  }
  function visible(node, area) {
    var list = (node.children || []).filter(function (c) { return c.size > 0; });
    list.sort(function (a, b) { return b.size - a.size || (a.name < b.name ? -1 : 1); });
    // Cells under a few pixels are unreadable; cap them so huge folders stay quick to draw.
    var min = node.size * (4 / Math.max(area, 1));
    return list.filter(function (c, k) { return k < 400 && c.size >= min; });
  }

  // Nested levels inside each folder, under its label, so the heavy corners show before zooming.
  var LEVELS = 3;
  function drawLevel(container, node, x, y, w, h, level, hue) {
    var cells = squarify(visible(node, w * h), x, y, w, h);
    cells.forEach(function (cell, k) {
      var n = cell.node;
      var tint = level === 0 ? (k * 47) % 360 : hue;
      var mark = chosen === null ? '' : n.hit > 0 ? ' hit' : ' dim';
      var div = el('div', { class: 'cell' + (n.dir ? ' dir' : '') + mark, title: shown('/' + n.path) + '  ' + humanSize(n.size), 'data-path': n.path });
      div.style.cssText = 'left:' + cell.x + 'px;top:' + cell.y + 'px;width:' + cell.w + 'px;height:' + cell.h +
        'px;background:hsl(' + tint + ',45%,' + (68 + level * 7) + '%)';
      if (cell.w > 28 && cell.h > 14) {
        div.appendChild(el('span', {}, n.name));
        div.appendChild(el('span', { class: 'size' }, humanSize(n.size)));
      }
      if (n.dir) {
        div.addEventListener('click', function (event) { event.stopPropagation(); draw(n); });
        if (level + 1 < LEVELS && cell.w > 40 && cell.h > 40) drawLevel(div, n, 1, 17, cell.w - 4, cell.h - 19, level + 1, tint);
      }
      container.appendChild(div);
    });
    return cells;
  }

  // The chosen layer (--layers): each node's bytes of files that layer wrote and the image still holds.
  var chosen = null;
  function choose(index) {
    chosen = index;
    order.forEach(function (n) { n.hit = 0; });
    root.hit = 0;
    for (var k = order.length - 1; k >= 0; k--) {
      var n = order[k];
      if (!n.dir && n.layer === index) n.hit += Math.max(n.size, 1);
      n.parent.hit += n.hit;
    }
    document.querySelectorAll('button.layer').forEach(function (b) {
      b.setAttribute('aria-pressed', String(Number(b.getAttribute('data-layer')) === index));
    });
    var layer = (data.layers || []).filter(function (l) { return l.i === index; })[0];
    var detail = document.getElementById('layer-detail');
    detail.textContent = '';
    if (!layer) return;
    function count(c) { return c.f + ' (' + humanSize(c.b) + ')'; }
    detail.appendChild(el('p', {}, 'Layer #' + index + ': ' + humanSize(layer.s) + ', added ' + count({ f: layer.a.files, b: layer.a.bytes }) +
      ', changed ' + count({ f: layer.c.files, b: layer.c.bytes }) + ', deleted ' + count({ f: layer.d.files, b: layer.d.bytes }) +
      ', wasted ' + humanSize(layer.w) + '. Highlighted: its files still in the image.'));
    // Small layers' cells may be too small to see next to a big one: their files are listed too.
    var wrote = order.filter(function (n) { return !n.dir && n.layer === index; });
    wrote.sort(function (a, b) { return b.size - a.size || (a.path < b.path ? -1 : 1); });
    detail.appendChild(el('p', {}, wrote.length === 0 ? 'No file it wrote is left in the image.' : 'Its files in the image' + (wrote.length > 20 ? ', largest 20 of ' + wrote.length : '') + ':'));
    if (wrote.length > 0) {
      var added = el('ul', { id: 'layer-added' });
      wrote.slice(0, 20).forEach(function (n) {
        var item = el('li', { 'data-path': n.path }, '/' + n.path + '  ' + humanSize(n.size));
        item.addEventListener('click', function () { draw(n.parent); });
        added.appendChild(item);
      });
      detail.appendChild(added);
    }
    detail.appendChild(el('p', {}, layer.r.length === 0 ? 'It removed nothing of the layers below.' : 'It removed:'));
    if (layer.r.length > 0) {
      var list = el('ul', { id: 'layer-removed' });
      layer.r.forEach(function (r) { list.appendChild(el('li', { 'data-path': r.p }, '/' + r.p + '  ' + r.f + (r.f === 1 ? ' file, ' : ' files, ') + humanSize(r.b))); });
      detail.appendChild(list);
    }
  }
  document.querySelectorAll('button.layer').forEach(function (b) {
    b.addEventListener('click', function () {
      var index = Number(b.getAttribute('data-layer'));
      if (chosen === index) { chosen = null; order.forEach(function (n) { n.hit = 0; }); b.setAttribute('aria-pressed', 'false'); document.getElementById('layer-detail').textContent = ''; }
      else choose(index);
      draw(current);
    });
  });

  var map = document.getElementById('treemap');
  var crumbs = document.getElementById('crumbs');
  var current = root;
  function draw(node) {
    current = node;
    drawnWidth = map.clientWidth;
    map.textContent = '';
    crumbs.textContent = '';
    var chain = [];
    for (var n = node; n; n = n.parent) chain.unshift(n);
    chain.forEach(function (c, k) {
      if (k > 0) crumbs.appendChild(document.createTextNode(k > 1 ? '/' : ''));
      var link = el('a', { 'data-path': c.path }, c === root ? '/' : c.name);
      link.addEventListener('click', function () { draw(c); });
      crumbs.appendChild(link);
    });
    crumbs.appendChild(document.createTextNode('  ' + humanSize(node.size)));
    var cells = drawLevel(map, node, 0, 0, map.clientWidth, map.clientHeight, 0, 0);
    if (cells.length === 0) map.appendChild(el('p', { class: 'muted', style: 'padding:8px' }, 'No file contents in this folder.'));
  }
  draw(root);
  var resizeTimer;
  // The treemap's own size, not the window's: the layer list beside it, a scroll bar or a late font can
  // change its width after the first draw, and cells drawn for the old width would be clipped.
  var drawnWidth = map.clientWidth;
  function redraw() {
    if (map.clientWidth === drawnWidth) return;
    drawnWidth = map.clientWidth;
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () { draw(current); }, 100);
  }
  if (window.ResizeObserver) new ResizeObserver(redraw).observe(map);
  else window.addEventListener('resize', redraw);

  // Path search: a substring match over every path, the first 200 shown.
  var box = document.getElementById('search-box');
  var count = document.getElementById('search-count');
  var body = document.querySelector('#search-results tbody');
  var lower = null;
  var LIMIT = 200;
  function search() {
    var q = box.value.trim().toLowerCase().replace(/^\/+/, '');
    body.textContent = '';
    if (!q) { count.textContent = ''; return; }
    if (!lower) lower = e.p.map(function (p) { return shown(p).toLowerCase(); });
    var found = 0;
    for (var i = 0; i < lower.length; i++) {
      if (lower[i].indexOf(q) < 0) continue;
      found++;
      if (found > LIMIT) continue;
      var tr = document.createElement('tr');
      var type = e.t[i];
      var link = e.l[i];
      var cell = el('td', { class: 'path', 'data-path': e.p[i] }, '/' + e.p[i] + (link !== undefined ? (type === 'l' ? ' -> ' : ' => /') + link : ''));
      cell.addEventListener('click', (function (p) { return function () {
        var s = p.lastIndexOf('/');
        var folder = nodes.get(p) || nodes.get(s < 0 ? '' : p.slice(0, s)) || root;
        draw(folder);
        map.scrollIntoView({ block: 'center' });
      }; })(e.p[i]));
      tr.appendChild(cell);
      tr.appendChild(el('td', {}, TYPES[type]));
      tr.appendChild(el('td', { class: 'num' }, type === 'f' ? humanSize(e.s[i]) : ''));
      tr.appendChild(el('td', { class: 'mono' }, modeString(type, e.m[i])));
      tr.appendChild(el('td', { class: 'num' }, e.u[i] + ':' + e.g[i]));
      body.appendChild(tr);
    }
    count.textContent = found + (found === 1 ? ' match' : ' matches') + (found > LIMIT ? ', first ' + LIMIT + ' shown' : '');
  }
  var timer;
  box.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(search, 120); });
  document.body.setAttribute('data-ready', 'true');
})();
`;
