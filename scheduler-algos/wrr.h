/*
 * wrr.h -- smooth weighted round-robin (nginx's rotation) over the workers
 * eligible for each request.
 *
 * The original drew a worker at random with probability proportional to
 * 1 - load: the same request could go anywhere, and two runs never agreed.
 * Here every worker carries a current weight.  One step of a select adds
 * each eligible worker's weight to its current weight, takes the worker
 * with the largest current weight (ties: the first in the array) and takes
 * the total of the weights added off the winner.  With weights 5, 1, 1 the
 * order is a a b a c a a: every worker gets its share in every cycle of
 * sum-of-weights picks, spread out rather than in bursts, and the sequence
 * is a function of the inputs alone.
 *
 * Current weights are kept per eligibility class, and within it per
 * worker id (a hash of it: positions mean nothing across calls).  A class
 * is what a request asks of a worker's hardware (wrr.c's class_key): its
 * backend bits and names (a set: any order alike), precisions, features
 * and accelerators (kinds and counts, a set too).  Memory and compute
 * units are no part of it: clients choose them freely (nginx's
 * X-Min-Memory-Gb) and each size would be a class; requests that differ
 * only in them share a rotation, and shares hold over that class's
 * requests, not per size (9 GB and 14 GB tests on 12 GB and 16 GB
 * workers: the 16 GB workers may take all of the 14 GB ones).  Each class
 * turns a rotation of its own, so requests of one class take no turn of
 * another's: plain and CUDA-only tests interleaved on a, b(cuda), c,
 * d(cuda) give b and d half the CUDA tests each and every worker a
 * quarter of the plain ones (one rotation for all gave b every CUDA test,
 * d's turns being spent on plain ones).
 *
 * Beside the classes, one shared rotation takes every committed select
 * (the single rotation there was before classes: the same increments,
 * the picks' totals taken off the workers the class chose).  A class is
 * made only when a select of it commits a pick (a select that finds no
 * worker, score and explain make none), as a copy of the shared
 * rotation's current weights, and until then a request of it reads the
 * shared rotation.  At most WRR_CLASSES classes are kept; a new one
 * beyond them takes the place of the one selected for least recently.
 * So with more classes than that in turn, each comes back as a copy of
 * the shared rotation: the decisions are the single rotation's, never a
 * fresh rotation's first pick (the first worker) for every request.
 *
 * Within a class, the eligible set still moves (the load ceiling, an
 * exclude list, the memory and compute units asked, free memory, the
 * workers a host passes): workers not
 * eligible for a request neither gain nor lose, and a step takes off the
 * winner what it added to the eligible.  Work only one worker could take
 * (only it had the GPU) is a class of its own and leaves the others'
 * rotations as they were.  Several workers for one request
 * (m shards) are one step of m shares: each eligible worker gains m times
 * its weight, the m most due are taken and each loses the total, so a
 * worker is in a request's set in proportion to its weight (m steps, each
 * adding the weights not yet taken again, put the same worker in every
 * set: 3 equal workers by pairs gave b 300 times in 300).  A weight of
 * more than 1/m of the total counts as exactly that share (wrr.c's
 * cap_shares): the worker is in every set, and gains no surplus that
 * later requests of fewer shards would pay for.  With fewer workers of a
 * weight than m, m is their number: drained workers fill the set and, as
 * the others, gain and lose nothing.  A worker of weight 0 is drained: it is taken only when
 * no eligible worker has a positive weight, and scores 0 beside them.
 *
 * Pure: libc only.  The scratch grows in wrr_prepare, the shared and a
 * class's tables in a committing wrr_pick (a select); score and a looking
 * pick never allocate.  Not thread-safe; the caller serialises.
 */
#ifndef LBS_WRR_H
#define LBS_WRR_H

#include <stdint.h>

#include <lbsched/abi.h>

/* Where a worker's weight comes from. */
enum wrr_source {
	WRR_CAPABILITIES = 0, /* lbs_worker.capacity (0 counts as 1) */
	WRR_CONFIG,           /* a table of weights by id, default for others */
	WRR_LOAD              /* spare capacity: 1 - effective load, >= 0.01 */
};

typedef struct wrr_entry {
	uint64_t hash;  /* wid_hash of the worker's id */
	uint64_t seen;  /* select count when last eligible */
	double current; /* the smooth rotation's current weight */
} wrr_entry;

/* Gives the configured weight of a worker id (WRR_CONFIG). */
typedef double (*wrr_weight_fn)(void *ctx, const char *id);

/* Classes kept at once (each a table of the workers it has seen). */
#define WRR_CLASSES 32

/*
 * One class's rotation.  Entries are dense, in the order workers were
 * first seen, so a stable fleet reads them in position order; `index`
 * (open addressing, entry + 1, 0 empty) finds an id's entry when its
 * position changed.  pos_ent remembers each position's entry from the
 * class's last call and is trusted only when that entry's hash is the
 * worker's.
 */
typedef struct wrr_class {
	uint64_t key;       /* class_key of its requests */
	uint64_t used;      /* wrr_state.clock when a select last came */
	uint64_t steps;     /* selects committed in this class */
	wrr_entry *ent;
	uint32_t n_ent, ent_cap;
	uint32_t *index;
	uint32_t cap;       /* of index: a power of two, or 0 */
	uint32_t *pos_ent;
	uint32_t pos_cap;
} wrr_class;

typedef struct wrr_state {
	wrr_class all;      /* the shared rotation: every committed select */
	wrr_class cls[WRR_CLASSES];
	uint32_t n_cls;     /* the first n_cls of cls are classes */
	uint64_t clock;     /* committed selects, every class */
	/* Of wrr_prepare's size: scratch weights and current weights (the
	 * class's and the shared rotation's). */
	double *pos_weight;
	uint32_t pos_cap;
} wrr_state;

typedef struct wrr_params {
	enum wrr_source source;
	double ceiling;        /* as in elig_check */
	wrr_weight_fn weight;  /* WRR_CONFIG */
	void *weight_ctx;
} wrr_params;

/* What a pick found, for the reason sentence and explain. */
typedef struct wrr_result {
	uint32_t n_found;    /* workers taken, <= want */
	uint32_t n_eligible;
	double total;        /* sum of the eligible workers' weights */
	double weight;       /* the first pick's weight, cut (cap_shares) */
	double current;      /* its current weight before the step */
	uint32_t shares;     /* of the step: each eligible gains shares x weight */
} wrr_result;

void wrr_init(wrr_state *s);
void wrr_free(wrr_state *s);

/* Scratch for n workers.  LBS_OK or LBS_ENOMEM; call before pick / score
 * with the same n. */
lbs_status wrr_prepare(wrr_state *s, uint32_t n);

/* A worker's weight under p (WRR_LOAD needs the load of the worker). */
double wrr_weight_of(const wrr_params *p, const lbs_worker *w);

/*
 * Up to `want` eligible workers into idx[] by the smooth rotation.  When
 * `commit` > 0 and at least that many were found, the current weights move
 * (select: commit = the workload's minimum); with 0 the call only looks
 * (explain).  Fewer than `want` found means fewer are eligible.  A pick
 * that commits makes the workload's class when it has none yet, a copy of
 * the shared rotation; one that does not (too few found) makes none.
 * LBS_OK, LBS_ENOMEM, or LBS_EINVAL for a NULL, short or id-less worker.
 */
lbs_status wrr_pick(wrr_state *s, const wrr_params *p, const lbs_workload *wl,
                    const lbs_worker *const *workers, uint32_t n, uint32_t want,
                    uint32_t commit, uint32_t *idx, wrr_result *res);

/*
 * Score without moving anything: -1 when not eligible; else how due the
 * worker is after the increment of a pick of `want` (its step's shares
 * times the weight as wrr_pick cuts it), scaled so the next pick scores 1
 * and the least due 0 (all 1 when equal), the current weights those of
 * the workload's class (the shared rotation's for a class not made yet).
 * So the `want` that wrr_pick takes are the best scored, ties aside.
 * When `current` / `weight` are not NULL they receive each worker's
 * figures (the weight cut, as wrr_result's).
 */
lbs_status wrr_score(wrr_state *s, const wrr_params *p, const lbs_workload *wl,
                     const lbs_worker *const *workers, uint32_t n, uint32_t want,
                     double *scores, double *current, double *weight);

/* Drop the current weights of ids not eligible in the last `age` selects
 * of their class, or of all for the shared rotation (the fleet moved on);
 * keeps the tables from growing without end. */
void wrr_forget(wrr_state *s, uint64_t age);

#endif
