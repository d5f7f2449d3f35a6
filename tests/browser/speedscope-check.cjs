// Validate a speedscope file against speedscope's own schema (from the
// speedscope npm package), then print what a test needs to check:
//   profile <name> unit=<unit> end=<endValue> samples=<n> weight=<sum> depth0=<first frame>
//   frames <n>
//   frame <name> <file> <line>   (for frames with a file)
// and check what the schema cannot: sample frame indices within range,
// weights as long as samples and summing to endValue - startValue.
'use strict';
const fs = require('fs');
const path = require('path');
const Ajv = require('ajv');

const schema = JSON.parse(fs.readFileSync(path.join(__dirname,
	'node_modules/speedscope/dist/release/file-format-schema.json'), 'utf8'));
const data = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(schema);
if (!validate(data)) {
	console.error('schema errors:', JSON.stringify(validate.errors, null, 1));
	process.exit(1);
}
const nframes = data.shared.frames.length;
for (const p of data.profiles) {
	if (p.samples.length !== p.weights.length)
		throw new Error(`${p.name}: ${p.samples.length} samples, ${p.weights.length} weights`);
	let sum = 0;
	for (const w of p.weights) sum += w;
	if (sum !== p.endValue - p.startValue)
		throw new Error(`${p.name}: weights sum ${sum} != endValue ${p.endValue}`);
	for (const s of p.samples)
		for (const f of s)
			if (!Number.isInteger(f) || f < 0 || f >= nframes)
				throw new Error(`${p.name}: frame index ${f} out of range`);
	const depth0 = p.samples.length ? data.shared.frames[p.samples[0][0]].name : '';
	const names = new Set();
	for (const s of p.samples) for (const f of s) names.add(data.shared.frames[f].name);
	console.log(`profile ${p.name} unit=${p.unit} end=${p.endValue} samples=${p.samples.length}` +
		` weight=${sum} depth0=${depth0} names=${[...names].sort().join(',')}`);
}
console.log(`frames ${nframes}`);
for (const f of data.shared.frames)
	if (f.file !== undefined) console.log(`frame ${f.name} ${f.file} ${f.line}`);
