// Read a gecko profile (the Firefox Profiler's format, in a DevTools
// export's wrapper) the way its consumers do, then print what a test checks:
//
// 1. The structure the Firefox Profiler's gecko processing reads (meta
//    version, categories, per thread: schemas, stack prefixes before their
//    stacks, frame and string indices in range, sample times in order).
// 2. speedscope's own Firefox importer, taken from the speedscope package's
//    bundle (the function its file-format detection calls for
//    systemHost.name == "Firefox"), run over the file with a profile builder
//    that records each sample's stack and, like speedscope's, refuses time
//    going backwards.
//
// Prints:
//   threads <n>
//   thread <name> process=<processName> pid=<pid> tid=<tid> samples=<n>
//   marker <thread> <name> start=<ms> end=<ms> tid=<tid> function=<function>
//   speedscope enters=<frames entered> duration=<ms>
//   frame <name> time=<ms on the stack> first=<ms> half=<ms> last=<ms>
// (half: the instant by which half of the frame's time had passed).
// Markers are checked as the Firefox Profiler's gecko processing reads them
// (gecko-profile.js, process-profile.js: schema {name, startTime, endTime,
// phase, category, data}, name an index into the thread's stringTable,
// phase 0-3, data.type named in meta.markerSchema with its display and data
// fields); speedscope ignores them.
'use strict';
const fs = require('fs');
const path = require('path');

function fail(msg) {
	console.error(`gecko-check: ${msg}`);
	process.exit(1);
}

const file = process.argv[2];
const data = JSON.parse(fs.readFileSync(file, 'utf8'));

// 1. Structure.
const prof = data.profile;
if (!prof || !prof.meta) fail('no profile.meta (the Firefox Profiler needs it)');
if (prof.meta.version !== 29) fail(`meta.version ${prof.meta.version}, expected 29`);
if (!Array.isArray(prof.meta.categories) || !prof.meta.categories.length)
	fail('no meta.categories');
for (const k of ['libs', 'threads', 'processes', 'pausedRanges'])
	if (!Array.isArray(prof[k])) fail(`profile.${k} is not an array`);
const ncat = prof.meta.categories.length;
console.log(`threads ${prof.threads.length}`);
for (const t of prof.threads) {
	for (const k of ['name', 'processType', 'registerTime', 'pid', 'tid', 'samples', 'markers',
		'stackTable', 'frameTable', 'stringTable'])
		if (!(k in t)) fail(`thread ${t.name}: no ${k}`);
	const ss = t.stackTable.schema, fs_ = t.frameTable.schema, sm = t.samples.schema;
	if (ss.prefix !== 0 || ss.frame !== 1) fail('stackTable schema');
	if (fs_.location !== 0 || fs_.category !== 6 || fs_.line !== 4) fail('frameTable schema');
	if (sm.stack !== 0 || sm.time !== 1) fail('samples schema');
	t.stackTable.data.forEach(([prefix, frame], i) => {
		if (prefix !== null && !(prefix >= 0 && prefix < i)) fail(`stack ${i}: prefix ${prefix}`);
		if (!(frame >= 0 && frame < t.frameTable.data.length)) fail(`stack ${i}: frame ${frame}`);
	});
	t.frameTable.data.forEach((f, i) => {
		if (!(f[0] >= 0 && f[0] < t.stringTable.length)) fail(`frame ${i}: location ${f[0]}`);
		if (!(f[6] >= 0 && f[6] < ncat)) fail(`frame ${i}: category ${f[6]}`);
	});
	let last = -Infinity;
	for (const s of t.samples.data) {
		if (s[0] !== null && !(s[0] >= 0 && s[0] < t.stackTable.data.length))
			fail(`sample stack ${s[0]}`);
		if (!(s[1] >= last)) fail(`sample time ${s[1]} before ${last}`);
		last = s[1];
	}
	console.log(`thread ${t.name} process=${t.processName} pid=${t.pid} tid=${t.tid}` +
		` samples=${t.samples.data.length}`);
}
const schemas = new Map();
if (!Array.isArray(prof.meta.markerSchema)) fail('no meta.markerSchema');
for (const ms of prof.meta.markerSchema) {
	if (typeof ms.name !== 'string' || !Array.isArray(ms.display) || !Array.isArray(ms.data))
		fail(`marker schema ${ms.name}: name, display and data needed`);
	for (const d of ms.display)
		if (!['marker-chart', 'marker-table', 'timeline-overview', 'timeline-memory',
			'timeline-ipc', 'timeline-fileio', 'stack-chart'].includes(d))
			fail(`marker schema ${ms.name}: display ${d}`);
	for (const f of ms.data)
		if (typeof f.key !== 'string' || typeof f.format !== 'string')
			fail(`marker schema ${ms.name}: a field without key or format`);
	schemas.set(ms.name, ms);
}
for (const t of prof.threads) {
	const mk = t.markers.schema;
	if (mk.name !== 0 || mk.startTime !== 1 || mk.endTime !== 2 || mk.phase !== 3 ||
		mk.category !== 4 || mk.data !== 5)
		fail(`thread ${t.name}: markers schema`);
	for (const m of t.markers.data) {
		const [name, start, end, phase, cat, d] = m;
		if (!(name >= 0 && name < t.stringTable.length)) fail(`marker name ${name}`);
		if (!(phase >= 0 && phase <= 3)) fail(`marker phase ${phase}`);
		if (phase === 1 && !(typeof start === 'number' && typeof end === 'number' && start <= end))
			fail(`interval marker ${start}..${end}`);
		if (!(cat >= 0 && cat < ncat)) fail(`marker category ${cat}`);
		if (d && d.type) {
			const ms = schemas.get(d.type);
			if (!ms) fail(`marker data type ${d.type} has no schema`);
			for (const f of ms.data)
				if (!(f.key in d)) fail(`marker of type ${d.type}: no ${f.key}`);
		}
		console.log(`marker ${t.name} ${t.stringTable[name]} start=${Math.round(start)}` +
			` end=${Math.round(end)} tid=${d && d.tid} function=${d && d.function}`);
	}
}

// 2. speedscope's Firefox importer, from its bundle.
const dir = path.join(__dirname, 'node_modules/speedscope/dist/release');
const bundle = fs.readdirSync(dir).filter((f) => /^speedscope-.*\.js$/.test(f))
	.map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('\n');
const detect = /systemHost&&\w+\.systemHost\.name=="Firefox"\)return console\.log\("Importing as Firefox profile"\),\w+\((\w+)\(\w+\)\)/
	.exec(bundle);
if (!detect) fail('speedscope bundle: Firefox detection not found');
const start = bundle.indexOf(`function ${detect[1]}(`);
if (start < 0) fail(`speedscope bundle: function ${detect[1]} not found`);
let depth = 0, end = bundle.indexOf('{', start);
for (; end < bundle.length; end++) {
	if (bundle[end] === '{') depth++;
	else if (bundle[end] === '}' && --depth === 0) break;
}
const src = bundle.slice(start, end + 1);
const builderName = /new (\w+)\(\w+\.duration\)/.exec(src);
const insertName = /(\w+)\(\w+,\w+,\(\)=>\(\{key:/.exec(src);
const fmtName = /setValueFormatter\(new (\w+)\(/.exec(src);
if (!builderName || !insertName || !fmtName) fail('speedscope bundle: importer helpers not found');

// Stand-ins for speedscope's profile builder: when each frame was on the
// stack. Like speedscope's, it refuses time going backwards.
class Builder {
	constructor(total) {
		this.total = total;
		this.stack = [];
		this.last = -Infinity;
		this.spans = new Map(); // frame name -> [[enter, leave], ...]
		this.enters = 0;
	}
	check(v) {
		if (v < this.last) throw new Error(`sample at ${v} after ${this.last}`);
		this.last = v;
	}
	enterFrame(frame, v) {
		this.check(v);
		this.stack.push([frame.name, v]);
		this.enters++;
	}
	leaveFrame(frame, v) {
		this.check(v);
		const [name, at] = this.stack.pop();
		if (name !== frame.name) throw new Error(`left ${frame.name}, top was ${name}`);
		if (!this.spans.has(name)) this.spans.set(name, []);
		this.spans.get(name).push([at, v]);
	}
	setValueFormatter() {}
	build() {
		// What is still on the stack ends with the profile (its duration).
		const end = Math.max(this.last, this.total);
		while (this.stack.length)
			this.leaveFrame({ name: this.stack[this.stack.length - 1][0] }, end);
		return this;
	}
}
class Formatter { constructor(unit) { this.unit = unit; } }
function getOrInsert(map, k, fn) {
	if (!map.has(k)) map.set(k, fn(k));
	return map.get(k);
}
const importer = new Function(builderName[1], insertName[1], fmtName[1], `return ${src}`)(
	Builder, getOrInsert, Formatter);
const b = importer(data);
console.log(`speedscope enters=${b.enters} duration=${b.total}`);
// Per frame: its time on the stack, the first and last instants, and the
// instant by which half of its time had passed.
for (const [name, spans] of [...b.spans].sort()) {
	spans.sort((x, y) => x[0] - y[0]);
	const total = spans.reduce((a, [x, y]) => a + (y - x), 0);
	let acc = 0, half = spans[0][0];
	for (const [x, y] of spans) {
		if (acc + (y - x) >= total / 2) {
			half = x + (total / 2 - acc);
			break;
		}
		acc += y - x;
	}
	const r = (v) => Math.round(v);
	console.log(`frame ${name} time=${r(total)} first=${r(spans[0][0])} half=${r(half)}` +
		` last=${r(spans[spans.length - 1][1])}`);
}
