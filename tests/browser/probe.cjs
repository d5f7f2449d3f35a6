// Open any rampa-bpf SVG in chromium, click one frame, search a regular
// expression; print what happened as key=value lines.
//   node probe.cjs FILE.svg FRAME-NAME REGEX
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

(async () => {
	const [file, name, re] = process.argv.slice(2);
	const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rampa-chromium-'));
	const ctx = await chromium.launchPersistentContext(profileDir, {
		executablePath: process.env.RAMPA_CHROMIUM || '/usr/bin/chromium',
		headless: true,
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
			'--disable-background-networking', '--disable-component-update', '--disable-sync'],
		viewport: { width: 1300, height: 800 },
	});
	try {
		const page = await ctx.newPage();
		const errors = [];
		page.on('pageerror', (e) => errors.push(String(e)));
		await page.goto('file://' + path.resolve(file));
		const g = page.locator('g.f').filter({
			has: page.locator('title', { hasText: new RegExp('^' + name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '\\n') }),
		});
		console.log(`frames=${await page.locator('g.f').count()}`);
		await g.locator('rect').click();
		console.log(`zoom.width=${await g.locator('rect').getAttribute('width')}`);
		page.once('dialog', (d) => d.accept(re));
		await page.locator('#search').click();
		console.log(`matched=${await page.locator('#matched').textContent()}`);
		console.log(`errors=${errors.length ? errors.join(' ; ') : 'none'}`);
	} finally {
		await ctx.close();
		fs.rmSync(profileDir, { recursive: true, force: true });
	}
})().catch((e) => {
	console.error(e);
	process.exit(1);
});
