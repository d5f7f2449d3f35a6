// Drive Debian's chromium over a rampa-bpf flame graph like a user would:
// click a frame, reset, search by regular expression, hover. Prints
// "key=value" lines for the test to check.
//   node flamegraph.cjs FILE.svg
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.RAMPA_CHROMIUM || '/usr/bin/chromium';

async function main() {
	const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rampa-chromium-'));
	const ctx = await chromium.launchPersistentContext(profileDir, {
		executablePath: CHROMIUM,
		headless: true,
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync'],
		viewport: { width: 1300, height: 800 },
	});
	try {
		const page = await ctx.newPage();
		const errors = [];
		page.on('pageerror', (e) => errors.push(String(e)));
		await page.goto('file://' + path.resolve(process.argv[2]));
		const frame = (name) => page.locator('g.f').filter({
			has: page.locator('title', { hasText: new RegExp('^' + name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '\\n') }),
		});
		const width = async (name) => Number(await frame(name).locator('rect').getAttribute('width'));
		const visible = async (name) => frame(name).isVisible();
		const out = (k, v) => console.log(`${k}=${v}`);

		out('frames', await page.locator('g.f').count());
		out('initial.compute', await width('compute (/srv/app/app.py:20)'));
		out('initial.fill', await frame('cblas_dgemm').locator('rect').getAttribute('fill'));

		// Click to zoom into main(): it fills the width, its children scale up.
		await frame('main (/srv/app/app.py:5)').locator('rect').click();
		out('zoom.main', await width('main (/srv/app/app.py:5)'));
		out('zoom.compute', await width('compute (/srv/app/app.py:20)'));
		out('zoom.compute.label', await frame('compute (/srv/app/app.py:20)').locator('text').textContent());
		out('zoom.ancestor', await width('MainThread-4242'));
		out('zoom.ancestor.class', await frame('MainThread-4242').getAttribute('class'));
		out('zoom.sibling.visible', await visible('run (/srv/app/app.py:30)'));
		out('zoom.reset.opacity', await page.locator('#reset').evaluate((e) => getComputedStyle(e).opacity));

		// Zoom further by clicking a child, then reset.
		await frame('compute (/srv/app/app.py:21)').locator('rect').click();
		out('zoom2.dot', await width('dot (/usr/lib/python3/dist-packages/numpy/core/multiarray.py:5)'));
		out('zoom2.other.visible', await visible('compute (/srv/app/app.py:20)'));
		await page.locator('#reset').click();
		out('reset.compute', await width('compute (/srv/app/app.py:20)'));
		out('reset.sibling.visible', await visible('run (/srv/app/app.py:30)'));

		// Search: the prompt takes a regular expression; matches turn magenta
		// and the matched share is shown, overlapping matches counted once.
		const search = async (re) => {
			page.once('dialog', (d) => d.accept(re));
			await page.locator('#search').click();
			return page.locator('#matched').textContent();
		};
		out('search1.matched', await search('^(encode|cblas)'));
		out('search1.count', await page.locator('g.f.match').count());
		out('search1.fill', await frame('cblas_dgemm').locator('rect').getAttribute('fill'));
		out('search1.button', await page.locator('#search').textContent());
		await page.locator('#search').click(); // a second click clears the search
		out('cleared.matched', await page.locator('#matched').textContent());
		out('cleared.fill', await frame('cblas_dgemm').locator('rect').getAttribute('fill'));
		out('search2.matched', await search('main|compute'));
		await page.locator('#search').click();

		// Search while zoomed still reports the share of the whole profile.
		await frame('worker-4243').locator('rect').click();
		out('search3.matched', await search('_\\[k\\]$'));

		// Hovering a frame shows its tooltip text in the details line.
		await page.locator('#reset').click();
		await frame('encode (/usr/lib/python3.11/json/encoder.py:200)').locator('rect').hover();
		out('hover.details', await page.locator('#details').textContent());
		out('tooltip', await frame('encode (/usr/lib/python3.11/json/encoder.py:200)').locator('title').textContent().then((t) => t.replace(/\n/g, ' / ')));
		out('errors', errors.length ? errors.join(' ; ') : 'none');
	} finally {
		await ctx.close();
		fs.rmSync(profileDir, { recursive: true, force: true });
	}
}

main().catch((e) => {
	console.error(e);
	process.exit(1);
});
