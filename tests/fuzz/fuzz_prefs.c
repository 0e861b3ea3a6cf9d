/*
 * fuzz_prefs.c -- a learned-store document through the plugin's
 * "lbs.ext.store/1" import_json, as `lbsched-shim prefs import --replace`
 * does it, into a real LMDB store in the sandbox.
 *
 * A document that is refused must say why in one line.
 * One that is accepted must export again, and that export must import and
 * export to the same bytes: export is the format import reads, so a record
 * that goes in must come back out unchanged.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_env.h"
#include "textbuf.h"

#define STORE "p"

static const lbs_host_api *api;
static const lbs_ext_store *ext;
static shim_sched *keeper;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_sandbox(argc, argv);
	ext = loader_extension(fuzz_plugin(&api), LBS_EXT_STORE);
	if (!ext)
		fuzz_fail("the plugin has no " LBS_EXT_STORE " extension");
	/* An instance on the store keeps its LMDB environment open, so each
	 * import shares it instead of opening the files again. */
	keeper = fuzz_sched("hardware-aware", "{\"store\": {\"path\": \"" STORE "\"}}");
	return 0;
}

static void export(textbuf *t)
{
	char err[512] = "";
	lbs_status st = ext->export_json(api, STORE, textbuf_write, t, err, sizeof err);

	if (st != LBS_OK || t->failed)
		fuzz_fail("export after a good import failed with %d: %s", (int)st, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512] = "";
	textbuf first = {0}, second = {0};
	lbs_status st = ext->import_json(api, STORE, (const char *)data, size, LBS_IMPORT_REPLACE,
	                                 err, sizeof err);

	if (st == LBS_EINVAL) {
		fuzz_check_error(err, sizeof err, NULL, "import");
		return 0;
	}
	if (st != LBS_OK)
		fuzz_fail("import failed with %d (want OK or EINVAL): %s", (int)st, err);
	export(&first);
	st = ext->import_json(api, STORE, first.p, first.len, LBS_IMPORT_REPLACE, err, sizeof err);
	if (st != LBS_OK)
		fuzz_fail("the store's own export does not import (%d): %s\n%s", (int)st, err,
		          first.p);
	export(&second);
	if (first.len != second.len || memcmp(first.p, second.p, first.len))
		fuzz_fail("export, import, export changed the document:\n%s\n---\n%s", first.p,
		          second.p);
	textbuf_free(&first);
	textbuf_free(&second);
	return 0;
}
