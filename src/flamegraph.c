// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "flamegraph.h"
#include "folded.h"
#include "labels.h"
#include "stats.h"
#include "utf8.h"
#include "util.h"

#define FRAME_H	      16
#define FONT_SIZE     12
#define CHAR_W	      (FONT_SIZE * 0.59) /* Verdana's average advance */
#define PAD	      10
#define HEADER	      66
#define FOOTER	      30
#define FG_STR_PAD    "10"   /* PAD, for the script */
#define FG_STR_CHAR_W "7.08" /* CHAR_W */
#define MAX_GONE      15     /* disappeared stacks listed under a differential graph */

struct drawn {
	struct calltree_node nd;
	uint64_t x; /* offset in weight units of the width slot */
};

static const char script[] =
    "var svg,frames,W,total,unit,usec,zoomed=null,searching=null;\n"
    "function $(id){return document.getElementById(id);}\n"
    "function num(g,a){return +g.getAttribute(a);}\n"
    "function human(v){if(!usec)return v+' '+unit;var s=v*usec,u=[[1,'s'],[1e-3,'ms'],\n"
    " [1e-6,'us']],i=0;while(i<2&&s<u[i][0]*0.9995)i++;var x=s/u[i][0];\n"
    " return x.toFixed(x>=99.95?0:x>=9.995?1:2)+' '+u[i][1];}\n"
    "function nameOf(g){return g.querySelector('title').textContent.split('\\n')[0];}\n"
    "function init(evt){svg=document.documentElement;W=num(svg,'width');\n"
    " total=num(svg,'data-total');unit=svg.getAttribute('data-unit');\n"
    " usec=num(svg,'data-unit-seconds');\n"
    " frames=[].slice.call(document.querySelectorAll('g.f'));\n"
    " frames.forEach(function(g){g.addEventListener('click',function(){zoom(g);});\n"
    "  g.addEventListener('mouseover',function(){details(g);});\n"
    "  g.addEventListener('mouseout',function(){details(null);});});\n"
    " $('reset').addEventListener('click',unzoom);\n"
    " $('search').addEventListener('click',searchPrompt);\n"
    " window.addEventListener('keydown',function(e){\n"
    "  if((e.ctrlKey||e.metaKey)&&e.key=='f'){e.preventDefault();searchPrompt();}\n"
    "  else if(e.key=='Escape')unzoom();});\n"
    " var q=new URLSearchParams(location.search);if(q.get('s'))search(q.get('s'));}\n"
    "function details(g){$('details').textContent=g?\n"
    " g.querySelector('title').textContent.split('\\n').join(' | '):' ';}\n"
    "function fit(g,x,w){var t=g.querySelector('text'),name=g.getAttribute('data-l')||nameOf(g),\n"
    " n=Math.floor((w-6)/" FG_STR_CHAR_W ");t.setAttribute('x',x+3);\n"
    " t.textContent=n<3?'':name.length<=n?name:name.substr(0,n-2)+'..';}\n"
    "function zoom(g){var v0=num(g,'data-v'),n=num(g,'data-n'),d=num(g,'data-d'),\n"
    " full=W-2*" FG_STR_PAD ",k=full/n;\n"
    " frames.forEach(function(e){var ev=num(e,'data-v'),en=num(e,'data-n'),ed=num(e,'data-d'),\n"
    "  r=e.querySelector('rect'),x,w;\n"
    "  if(ed<d&&ev<=v0&&ev+en>=v0+n){x=" FG_STR_PAD ";w=full;e.classList.add('parent');}\n"
    "  else if(ed>=d&&ev>=v0&&ev+en<=v0+n){x=" FG_STR_PAD "+(ev-v0)*k;w=en*k;\n"
    "   e.classList.remove('parent');}\n"
    "  else{e.style.display='none';return;}\n"
    "  e.style.display='';r.setAttribute('x',x.toFixed(2));r.setAttribute('width',w.toFixed(2));\n"
    "  fit(e,x,w);});\n"
    " zoomed=d>0?g:null;$('reset').style.opacity=zoomed?1:0.2;}\n"
    "function unzoom(){zoom(document.querySelector('g.f[data-d=\"0\"]'));}\n"
    "function resetSearch(){searching=null;frames.forEach(function(g){\n"
    "  var r=g.querySelector('rect');if(r.hasAttribute('data-fill'))\n"
    "  r.setAttribute('fill',r.getAttribute('data-fill'));g.classList.remove('match');});\n"
    " $('matched').textContent='';$('search').textContent='Search';}\n"
    "function search(term){var re;try{re=new RegExp(term);}catch(e){alert('invalid regular '+\n"
    " 'expression: '+term);return;}\n"
    " resetSearch();searching=term;var iv=[];\n"
    " frames.forEach(function(g){if(num(g,'data-d')==0||!re.test(nameOf(g)))return;\n"
    "  var r=g.querySelector('rect');r.setAttribute('data-fill',r.getAttribute('fill'));\n"
    "  r.setAttribute('fill','rgb(230,0,230)');g.classList.add('match');\n"
    "  iv.push([num(g,'data-v'),num(g,'data-n')]);});\n"
    " iv.sort(function(a,b){return a[0]-b[0];});var sum=0,end=0;\n"
    " iv.forEach(function(i){var s=Math.max(i[0],end),e=i[0]+i[1];if(e>s){sum+=e-s;end=e;}});\n"
    " $('matched').textContent='Matched: '+(total?100*sum/total:0).toFixed(2)+'% ('+human(sum)+\n"
    "  ') /'+term+'/';\n"
    " $('search').textContent='Reset Search';return sum;}\n"
    "function searchPrompt(){if(searching){resetSearch();return;}\n"
    " var t=prompt('Search frames by regular expression (e.g. ^json\\\\.|site-packages)','');\n"
    " if(t)search(t);}\n";

/* Any bytes as well-formed XML 1.0 text or attribute value: markup escaped;
 * ill-formed UTF-8 and the characters XML forbids (C0 controls but tab, LF
 * and CR; U+FFFE, U+FFFF) become U+FFFD. Stops at len or a NUL.
 */
static const char *xml_char(uint32_t cp, char *buf)
{
	(void)buf;
	switch (cp) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&apos;";
	case '\t':
	case '\n':
	case '\r':
		return NULL;
	case 0xfffe:
	case 0xffff:
	case UTF8_INVALID:
		return UTF8_REPLACEMENT_STR;
	}
	return cp < 0x20 ? UTF8_REPLACEMENT_STR : NULL;
}

static void xml_escape(FILE *f, const char *s, size_t len)
{
	utf8_escape(f, s, len, true, xml_char);
}

static void esc(FILE *f, const char *s)
{
	xml_escape(f, s, strlen(s));
}

static const char *basename_of(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash ? slash + 1 : path ? path : "";
}

static const char *mode_title(const char *mode)
{
	const struct profile_mode *pm = profile__mode(mode ? mode : "cpu");

	return pm ? pm->title : mode;
}

void profile_meta__describe(const struct profile_meta *m, char *buf, size_t len)
{
	char dur[32], hz[32];

	if (m->duration_sec > 0)
		snprintf(dur, sizeof(dur), "%.1f s", m->duration_sec);
	else
		snprintf(dur, sizeof(dur), "duration unknown");
	if (m->hz)
		snprintf(hz, sizeof(hz), "%u Hz", m->hz);
	else
		snprintf(hz, sizeof(hz), "rate unknown");
	snprintf(buf, len, "mode %s, unit %s, target %s, %s, %s", m->mode ? m->mode : "cpu",
		 m->unit ? m->unit : "samples", m->target[0] ? m->target : "unknown", dur, hz);
}

/* Deterministic per-name variation, so a function keeps its colour across graphs. */
static double vary(const char *name, uint64_t seed)
{
	return (double)(hash_bytes(name, strlen(name), seed) & 0xffff) / 0xffff;
}

static void kind_color(enum frame_kind k, const char *name, char *buf, size_t len)
{
	double v1 = vary(name, 1), v2 = vary(name, 2);
	int r, g, b;

	switch (k) {
	case FRAME_PY_USER: /* green */
		r = 60 + (int)(60 * v1), g = 170 + (int)(50 * v2), b = 60 + (int)(40 * v1);
		break;
	case FRAME_PY_STDLIB: /* aqua */
		r = 60 + (int)(40 * v1), g = 170 + (int)(40 * v2), b = 200 + (int)(40 * v2);
		break;
	case FRAME_PY_SITE: /* purple */
		r = 160 + (int)(40 * v1), g = 120 + (int)(40 * v2), b = 220 + (int)(30 * v1);
		break;
	case FRAME_KERNEL: /* orange */
		r = 230 + (int)(25 * v1), g = 140 + (int)(50 * v2), b = 20 + (int)(30 * v1);
		break;
	case FRAME_OFFCPU: /* blue: time spent waiting, not running */
		r = 110 + (int)(20 * v1), g = 120 + (int)(20 * v2), b = 225 + (int)(20 * v1);
		break;
	case FRAME_SYNTHETIC: /* grey: the profiler could not name it */
		r = g = b = 175 + (int)(20 * v1);
		break;
	default: /* native: FlameGraph's red-yellow */
		r = 200 + (int)(55 * v1), g = (int)(110 * v2), b = (int)(55 * v1);
		break;
	}
	snprintf(buf, len, "rgb(%d,%d,%d)", r, g, b);
}

struct diff_class {
	struct diff_change c;
	double delta;
	int significant, is_new;
};

static void diff_classify(const struct calltree_node *nd, const struct calltree_node *root,
			  const struct flamegraph_opts *o, struct diff_class *c)
{
	diff_test__compare(o->test, (double)nd->total[0], (double)root->total[0],
			   (double)nd->total[1], (double)root->total[1], &c->c);
	c->delta = c->c.delta;
	c->significant = c->c.significant;
	c->is_new = !nd->total[0] && nd->total[1];
}

static void diff_color(const struct diff_class *c, double max_delta, char *buf, size_t len)
{
	double i;
	int lo;

	if (c->is_new) {
		snprintf(buf, len, c->significant ? "rgb(170,100,230)" : "rgb(215,190,240)");
		return;
	}
	if (!c->significant) {
		snprintf(buf, len, "rgb(220,220,220)");
		return;
	}
	i = max_delta > 0 ? fabs(c->delta) / max_delta : 1;
	if (i > 1)
		i = 1;
	lo = (int)(225 - 190 * (0.2 + 0.8 * i));
	if (c->delta > 0)
		snprintf(buf, len, "rgb(255,%d,%d)", lo, lo);
	else
		snprintf(buf, len, "rgb(%d,%d,255)", lo, lo);
}

/* A weight for people: time units in us/ms/s, sample counts as they are. */
static char *fmt_weight(char *buf, size_t len, uint64_t w, const struct profile_meta *m)
{
	return fmt_amount(buf, len, w, m->unit);
}

/* Heaviest in BASE first; ties in the order they were found. */
static int cmp_gone(const void *a, const void *b, void *nodes)
{
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	uint64_t x = ((const struct calltree_node *)nodes)[i].total[0];
	uint64_t y = ((const struct calltree_node *)nodes)[j].total[0];

	return x < y ? 1 : x > y ? -1 : i < j ? -1 : i > j;
}

static void write_path(FILE *f, const struct calltree *t, const struct profile *names,
		       const struct calltree_node *nd)
{
	for (uint32_t i = 0; i < nd->depth; i++) {
		if (i)
			fputc(';', f);
		esc(f, profile__frame_name(names, calltree__path_frame(t, nd, i)));
	}
}

int flamegraph__write_tree(FILE *f, struct calltree *t, const struct profile *names,
			   const struct profile_meta *meta, const struct flamegraph_opts *o)
{
	const int slot = o->diff ? 1 : 0;
	struct calltree_node root_node, *root = &root_node, cn;
	unsigned int width = o->width ? o->width : 1200;
	double min_w = o->min_width > 0 ? o->min_width : 0.1;
	double full = width - 2.0 * PAD, scale;
	uint64_t total;
	struct drawn *dr = NULL, *todo = NULL;
	size_t ndr = 0, dr_cap = 0, ntodo = 0, todo_cap = 0, ngone = 0, gone_cap = 0;
	struct calltree_node *gone = NULL;
	uint32_t *by_weight = NULL, max_depth = 0;
	double max_delta = 0;
	const char *unit = meta->unit ? meta->unit : "samples";
	char desc[512], color[32], wbuf[64], wbuf2[64], lbuf[FOLDED_MAX_FRAME + 32];
	int height, graph_bottom;

	calltree__sort(t);
	calltree__root(t, root);
	total = root->total[slot];
	scale = total ? full / (double)total : 0;
	/* Lay out depth-first; children in name order from their parent's left edge. */
	grow_array((void **)&todo, &todo_cap, 1, sizeof(*todo));
	todo[ntodo++] = (struct drawn){ *root, 0 };
	while (ntodo) {
		struct drawn d = todo[--ntodo];
		const struct calltree_node *nd = &d.nd;
		uint64_t x = d.x;
		size_t first;
		int more;

		grow_array((void **)&dr, &dr_cap, ndr + 1, sizeof(*dr));
		dr[ndr++] = d;
		if (nd->depth > max_depth)
			max_depth = nd->depth;
		first = ntodo;
		for (more = calltree__first_child(t, nd, &cn); more;
		     more = calltree__next_sibling(t, &cn)) {
			if (o->diff && !cn.total[1] && cn.total[0]) {
				grow_array((void **)&gone, &gone_cap, ngone + 1, sizeof(*gone));
				gone[ngone++] = cn;
			}
			/* Too narrow to see: its weight stays in the parent. */
			if (cn.total[slot] && (double)cn.total[slot] * scale >= min_w) {
				grow_array((void **)&todo, &todo_cap, ntodo + 1, sizeof(*todo));
				todo[ntodo++] = (struct drawn){ cn, x };
			}
			x += cn.total[slot];
		}
		/* Reverse, so they come off the stack in name order. */
		for (size_t a = first, b = ntodo; a + 1 < b; a++, b--) {
			struct drawn tmp = todo[a];

			todo[a] = todo[b - 1];
			todo[b - 1] = tmp;
		}
	}
	if (o->diff) {
		for (size_t i = 0; i < ndr; i++) {
			struct diff_class c;

			diff_classify(&dr[i].nd, root, o, &c);
			if (c.significant && i && fabs(c.delta) > max_delta)
				max_delta = fabs(c.delta);
		}
		by_weight = xmalloc((ngone ? ngone : 1) * sizeof(*by_weight));
		for (size_t i = 0; i < ngone; i++)
			by_weight[i] = (uint32_t)i;
		qsort_r(by_weight, ngone, sizeof(*by_weight), cmp_gone, gone);
	}

	graph_bottom = HEADER + (int)(max_depth + 1) * FRAME_H;
	height = graph_bottom + FOOTER +
		 (ngone ? (int)((ngone > MAX_GONE ? MAX_GONE : ngone) + 1) * 14 + 6 : 0);
	fprintf(f,
		"<?xml version=\"1.0\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" width=\"%u\" height=\"%d\" viewBox=\"0 0 %u %d\" "
		"onload=\"init(evt)\" xmlns=\"http://www.w3.org/2000/svg\" "
		"data-total=\"%" PRIu64 "\" data-unit=\"%s\" data-unit-seconds=\"%g\">\n",
		width, height, width, height, total, unit,
		strcmp(unit, "samples") ? unit_seconds(unit, 0) : 0);
	fprintf(f,
		"<style>\ntext{font-family:Verdana,sans-serif;font-size:%dpx;fill:#000}\n"
		"#title{font-size:17px}#sub{font-size:12px;fill:#444}\n"
		".btn{cursor:pointer;fill:#225}.btn:hover{text-decoration:underline}\n"
		"g.f{cursor:pointer}g.f:hover rect{stroke:#000;stroke-width:0.5}\n"
		"g.f text{pointer-events:none}g.parent{opacity:0.5}\n</style>\n",
		FONT_SIZE);
	fprintf(f, "<script type=\"text/ecmascript\"><![CDATA[\n%s]]></script>\n", script);
	fprintf(f,
		"<defs><linearGradient id=\"bg\" y1=\"0\" y2=\"1\" x1=\"0\" x2=\"0\">"
		"<stop stop-color=\"#eeeeee\" offset=\"5%%\"/><stop stop-color=\"#eeeeb0\" "
		"offset=\"95%%\"/></linearGradient></defs>\n"
		"<rect x=\"0\" y=\"0\" width=\"%u\" height=\"%d\" fill=\"url(#bg)\"/>\n",
		width, height);
	fprintf(f, "<text id=\"title\" x=\"%u\" y=\"22\" text-anchor=\"middle\">", width / 2);
	if (o->title)
		esc(f, o->title);
	else if (o->diff)
		fprintf(f, "Differential %s flame graph", mode_title(meta->mode));
	else
		fprintf(f, "%s flame graph", mode_title(meta->mode));
	fprintf(f, "</text>\n<text id=\"sub\" x=\"%u\" y=\"40\" text-anchor=\"middle\">",
		width / 2);
	profile_meta__describe(meta, desc, sizeof(desc));
	esc(f, desc);
	if (o->diff)
		fprintf(f, ", NEW %s, BASE %s", fmt_weight(wbuf, sizeof(wbuf), total, meta),
			fmt_weight(wbuf2, sizeof(wbuf2), root->total[0], meta));
	else
		fprintf(f, ", total %s", fmt_weight(wbuf, sizeof(wbuf), total, meta));
	fputs("</text>\n", f);
	fprintf(f,
		"<text id=\"reset\" class=\"btn\" x=\"%d\" y=\"22\" style=\"opacity:0.2\">Reset "
		"Zoom</text>\n<text id=\"search\" class=\"btn\" x=\"%u\" y=\"22\" "
		"text-anchor=\"end\">Search</text>\n"
		"<text id=\"matched\" x=\"%u\" y=\"%d\" text-anchor=\"end\"></text>\n"
		"<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n",
		PAD, width - PAD, width - PAD, graph_bottom + 20, PAD, graph_bottom + 20);

	/* Legend: what the colours mean. */
	{
		static const char *const diff_names[] = { "grew", "shrank", "new",
							  "not significant" };
		static const char *const diff_colors[] = { "rgb(255,100,100)", "rgb(100,100,255)",
							   "rgb(170,100,230)", "rgb(220,220,220)" };
		int x = PAD;

		for (int k = 0; k < (o->diff ? 4 : FRAME_KIND_MAX); k++) {
			const char *label = o->diff ? diff_names[k] : frame_kind__name(k);

			if (o->diff)
				snprintf(color, sizeof(color), "%s", diff_colors[k]);
			else
				kind_color(k, label, color, sizeof(color));
			fprintf(f,
				"<rect x=\"%d\" y=\"48\" width=\"10\" height=\"10\" fill=\"%s\"/>"
				"<text x=\"%d\" y=\"57\" style=\"font-size:10px\">%s</text>\n",
				x, color, x + 13, label);
			x += 13 + (int)(strlen(label) * 6.2) + 12;
		}
		if (o->diff) {
			fprintf(f,
				"<text x=\"%d\" y=\"57\" style=\"font-size:10px\">(%s: %s, %.0f%% "
				"confidence, |z| &gt;= %.2f) widths: NEW ",
				x, diff_norms[o->test->norm].name, diff_norms[o->test->norm].test,
				100 * o->confidence, o->test->z_crit);
			esc(f, basename_of(o->new_name));
			fputs(", colours: change from BASE ", f);
			esc(f, basename_of(o->base_name));
			fputs("</text>\n", f);
		}
	}

	fputs("<g id=\"frames\">\n", f);
	for (size_t i = 0; i < ndr; i++) {
		const struct calltree_node *nd = &dr[i].nd;
		const char *name = i ? profile__frame_name(names, nd->frame) : "all";
		/* The box reads function first; the tooltip keeps the full name. */
		const char *label = labels__box(name, lbuf, sizeof(lbuf));
		enum frame_kind kind = i ? profile__frame_kind(names, nd->frame) : FRAME_NATIVE;
		double x = PAD + (double)dr[i].x * scale, w = (double)nd->total[slot] * scale;
		int y = graph_bottom - (int)(nd->depth + 1) * FRAME_H;
		double pct = total ? 100.0 * (double)nd->total[slot] / (double)total : 0;
		int fit = (int)((w - 6) / CHAR_W);
		size_t nlen = strlen(label);

		fprintf(
		    f, "<g class=\"f\" data-v=\"%" PRIu64 "\" data-n=\"%" PRIu64 "\" data-d=\"%u\"",
		    dr[i].x, nd->total[slot], nd->depth);
		if (label != name) {
			fputs(" data-l=\"", f);
			esc(f, label);
			fputc('"', f);
		}
		fputs("><title>", f);
		esc(f, name);
		if (o->diff) {
			struct diff_class c;

			diff_classify(nd, root, o, &c);
			fmt_weight(wbuf, sizeof(wbuf), nd->total[1], meta);
			fmt_weight(wbuf2, sizeof(wbuf2), nd->total[0], meta);
			fprintf(f, "\nNEW: %s (%.2f%%)\nBASE: %s (%.2f%%)\ndelta: ", wbuf,
				c.c.new_pct, wbuf2, c.c.base_pct);
			if (c.c.time_known && o->test->norm != DIFF_SHARES)
				fprintf(f, "%s%s, ", fmt_time(wbuf, sizeof(wbuf), c.c.delta_sec, 1),
					o->test->norm == DIFF_PER_SECOND ? " per second" : "");
			fprintf(f, "%+.2f points (z=%.1f, %s%s)", c.c.pts, c.c.z,
				c.significant ? "significant" : "not significant",
				c.is_new ? ", new" : "");
			diff_color(&c, max_delta, color, sizeof(color));
		} else {
			fmt_weight(wbuf, sizeof(wbuf), nd->total[0], meta);
			fmt_weight(wbuf2, sizeof(wbuf2), nd->self[0], meta);
			fprintf(f, "\n%s (%.2f%%), self %s, %s", wbuf, pct, wbuf2,
				i ? frame_kind__name(kind) : "all");
			if (i)
				kind_color(kind, name, color, sizeof(color));
			else
				snprintf(color, sizeof(color), "rgb(200,200,200)");
		}
		fprintf(f,
			"</title><rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"%d\" "
			"fill=\"%s\" rx=\"2\"/><text x=\"%.2f\" y=\"%d\">",
			x, y, w, FRAME_H - 1, color, x + 3, y + FRAME_H - 4);
		if (fit >= 3) {
			if ((size_t)fit >= nlen) {
				esc(f, label);
			} else {
				/* Cut on a UTF-8 boundary. */
				size_t cut = (size_t)fit - 2;

				while (cut && ((unsigned char)label[cut] & 0xc0) == 0x80)
					cut--;
				xml_escape(f, label, cut);
				fputs("..", f);
			}
		}
		fputs("</text></g>\n", f);
	}
	fputs("</g>\n", f);
	if (ngone) {
		int y = graph_bottom + FOOTER + 8;

		fprintf(f,
			"<text id=\"gone\" x=\"%d\" y=\"%d\" style=\"font-size:11px\">Only in BASE "
			"(%zu stack%s gone, heaviest first):</text>\n",
			PAD, y, ngone, ngone == 1 ? "" : "s");
		for (size_t i = 0; i < ngone && i < MAX_GONE; i++) {
			const struct calltree_node *nd = &gone[by_weight[i]];

			y += 14;
			fprintf(f,
				"<text class=\"gone\" x=\"%d\" y=\"%d\" style=\"font-size:11px\">",
				PAD + 10, y);
			write_path(f, t, names, nd);
			fprintf(f, " (%s, %.2f%% of BASE)</text>\n",
				fmt_weight(wbuf, sizeof(wbuf), nd->total[0], meta),
				root->total[0]
				    ? 100.0 * (double)nd->total[0] / (double)root->total[0]
				    : 0);
		}
	}
	fputs("</svg>\n", f);
	free(dr);
	free(todo);
	free(gone);
	free(by_weight);
	return ferror(f) ? -1 : 0;
}

int flamegraph__write(FILE *f, const struct profile *p, const struct flamegraph_opts *o)
{
	struct flamegraph_opts def = { 0 };
	/* The tree only reads names from p, which is its own names profile. */
	struct calltree *t = calltree__new((struct profile *)p);
	int ret;

	calltree__add(t, p, 0);
	ret = flamegraph__write_tree(f, t, p, profile__meta_ro(p), o ? o : &def);
	calltree__free(t);
	return ret;
}

int flamegraph__write_default(FILE *f, const struct profile *p)
{
	return flamegraph__write(f, p, NULL);
}
