/* The Elephant diffuser at one vector width, included by fve_sector.c once
 * per width. Before each inclusion define LANES (4, 8 or 16: sectors
 * diffused side by side, one per 32-bit lane), LANES_SUFFIX (a name
 * suffix) and LANES_TARGET (a function attribute choosing the instruction
 * set, or nothing); fve_sector.c also provides ld32, st32, STEP and, where
 * the compiler has them, VECTOR_LANES (GCC's and Clang's vector extension)
 * and VECTOR_TRANSPOSE (__builtin_shufflevector on a little-endian host).
 * Defines elephant_<LANES_SUFFIX>; see struct diffuser in fve_sector.c.
 *
 * The diffusers on n words per sector (n a multiple of 8, at least 16),
 * indices mod n, w[i] holding word i of every lane. A: d[i] with d[i-2]
 * and d[i-5] rotated by 9, 0, 13, 0 (i mod 4); B: d[i+2] and d[i+5]
 * rotated by 0, 10, 0, 25. Decryption adds from i = 0 up; encryption
 * subtracts from i = n-1 down. Written out so that every rotation is a
 * constant; the eight words whose terms wrap around are listed apart. */

#define LANES_CAT2(a, b) a##_##b
#define LANES_CAT(a, b) LANES_CAT2(a, b)
#define LANES_FN(name) LANES_CAT(name, LANES_SUFFIX)
#define lanes_t LANES_FN(lanes)

#ifdef VECTOR_LANES
typedef uint32_t lanes_t __attribute__((vector_size(LANES * 4)));

STEP LANES_TARGET void LANES_FN(add)(lanes_t *w, size_t i, size_t x, size_t y, unsigned r)
{
	w[i] += w[x] ^ ((w[y] << r) | (w[y] >> ((32 - r) & 31)));
}

STEP LANES_TARGET void LANES_FN(sub)(lanes_t *w, size_t i, size_t x, size_t y, unsigned r)
{
	w[i] -= w[x] ^ ((w[y] << r) | (w[y] >> ((32 - r) & 31)));
}
#else
typedef struct {
	uint32_t v[LANES];
} lanes_t;

STEP void LANES_FN(add)(lanes_t *w, size_t i, size_t x, size_t y, unsigned r)
{
	for (size_t l = 0; l < LANES; l++)
		w[i].v[l] += w[x].v[l] ^ ((w[y].v[l] << r) | (w[y].v[l] >> ((32 - r) & 31)));
}

STEP void LANES_FN(sub)(lanes_t *w, size_t i, size_t x, size_t y, unsigned r)
{
	for (size_t l = 0; l < LANES; l++)
		w[i].v[l] -= w[x].v[l] ^ ((w[y].v[l] << r) | (w[y].v[l] >> ((32 - r) & 31)));
}
#endif

#define add LANES_FN(add)
#define sub LANES_FN(sub)

STEP LANES_TARGET void LANES_FN(a_decrypt)(lanes_t *w, size_t n)
{
	for (int c = 0; c < 5; c++) {
		/* the wrapping words */
		add(w, 0, n - 2, n - 5, 9), add(w, 1, n - 1, n - 4, 0), add(w, 2, 0, n - 3, 13);
		add(w, 3, 1, n - 2, 0), add(w, 4, 2, n - 1, 9), add(w, 5, 3, 0, 0);
		add(w, 6, 4, 1, 13), add(w, 7, 5, 2, 0);
		for (size_t i = 8; i < n; i += 4) {
			add(w, i, i - 2, i - 5, 9);
			add(w, i + 1, i - 1, i - 4, 0);
			add(w, i + 2, i, i - 3, 13);
			add(w, i + 3, i + 1, i - 2, 0);
		}
	}
}

STEP LANES_TARGET void LANES_FN(a_encrypt)(lanes_t *w, size_t n)
{
	for (int c = 0; c < 5; c++) {
		for (size_t i = n - 4; i >= 8; i -= 4) {
			sub(w, i + 3, i + 1, i - 2, 0);
			sub(w, i + 2, i, i - 3, 13);
			sub(w, i + 1, i - 1, i - 4, 0);
			sub(w, i, i - 2, i - 5, 9);
		}
		/* the wrapping words, last first */
		sub(w, 7, 5, 2, 0), sub(w, 6, 4, 1, 13), sub(w, 5, 3, 0, 0), sub(w, 4, 2, n - 1, 9);
		sub(w, 3, 1, n - 2, 0), sub(w, 2, 0, n - 3, 13), sub(w, 1, n - 1, n - 4, 0);
		sub(w, 0, n - 2, n - 5, 9);
	}
}

STEP LANES_TARGET void LANES_FN(b_decrypt)(lanes_t *w, size_t n)
{
	for (int c = 0; c < 3; c++) {
		for (size_t i = 0; i + 8 < n; i += 4) {
			add(w, i, i + 2, i + 5, 0);
			add(w, i + 1, i + 3, i + 6, 10);
			add(w, i + 2, i + 4, i + 7, 0);
			add(w, i + 3, i + 5, i + 8, 25);
		}
		/* the wrapping words */
		add(w, n - 8, n - 6, n - 3, 0), add(w, n - 7, n - 5, n - 2, 10);
		add(w, n - 6, n - 4, n - 1, 0), add(w, n - 5, n - 3, 0, 25);
		add(w, n - 4, n - 2, 1, 0), add(w, n - 3, n - 1, 2, 10);
		add(w, n - 2, 0, 3, 0), add(w, n - 1, 1, 4, 25);
	}
}

STEP LANES_TARGET void LANES_FN(b_encrypt)(lanes_t *w, size_t n)
{
	for (int c = 0; c < 3; c++) {
		/* the wrapping words, last first */
		sub(w, n - 1, 1, 4, 25), sub(w, n - 2, 0, 3, 0), sub(w, n - 3, n - 1, 2, 10);
		sub(w, n - 4, n - 2, 1, 0), sub(w, n - 5, n - 3, 0, 25), sub(w, n - 6, n - 4, n - 1, 0);
		sub(w, n - 7, n - 5, n - 2, 10), sub(w, n - 8, n - 6, n - 3, 0);
		for (size_t i = n - 12;; i -= 4) {
			sub(w, i + 3, i + 5, i + 8, 25);
			sub(w, i + 2, i + 4, i + 7, 0);
			sub(w, i + 1, i + 3, i + 6, 10);
			sub(w, i, i + 2, i + 5, 0);
			if (!i)
				break;
		}
	}
}

#undef add
#undef sub

#ifdef VECTOR_TRANSPOSE
#if LANES == 16
#define INTERLEAVE_LO(a, b)                                                                        \
	__builtin_shufflevector(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23)
#define INTERLEAVE_HI(a, b)                                                                        \
	__builtin_shufflevector(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31)
#elif LANES == 8
#define INTERLEAVE_LO(a, b) __builtin_shufflevector(a, b, 0, 8, 1, 9, 2, 10, 3, 11)
#define INTERLEAVE_HI(a, b) __builtin_shufflevector(a, b, 4, 12, 5, 13, 6, 14, 7, 15)
#else
#define INTERLEAVE_LO(a, b) __builtin_shufflevector(a, b, 0, 4, 1, 5)
#define INTERLEAVE_HI(a, b) __builtin_shufflevector(a, b, 2, 6, 3, 7)
#endif

/* Rows j and j + LANES/2 of in interleaved into rows 2j and 2j+1 of out:
 * this rotates the bits of each word's (row, column) left by one, so
 * log2(LANES) rounds swap row and column. */
STEP LANES_TARGET void LANES_FN(interleave)(lanes_t out[LANES], const lanes_t in[LANES])
{
	for (size_t j = 0; j < LANES / 2; j++) {
		out[2 * j] = INTERLEAVE_LO(in[j], in[j + LANES / 2]);
		out[2 * j + 1] = INTERLEAVE_HI(in[j], in[j + LANES / 2]);
	}
}

/* out[j] word l = in[l] word j; in is overwritten. */
STEP LANES_TARGET void LANES_FN(transpose)(lanes_t out[LANES], lanes_t in[LANES])
{
	lanes_t t[LANES];
	LANES_FN(interleave)(t, in);
#if LANES >= 8
	LANES_FN(interleave)(in, t);
#endif
#if LANES == 16
	LANES_FN(interleave)(t, in);
#endif
	LANES_FN(interleave)(out, LANES == 8 ? in : t);
}

/* Words i..i+LANES-1 of k sectors at p into w[i..], the key (kv[j]: word
 * j of every sector's key) XORed in when encrypting; and back out, the key
 * XORed in when decrypting. */
STEP LANES_TARGET void LANES_FN(gather)(lanes_t *w, const uint8_t *p, size_t k, size_t size,
					size_t i, const lanes_t kv[8], int decrypt)
{
	lanes_t r[LANES];
	for (size_t l = 0; l < k; l++)
		memcpy(&r[l], p + l * size + 4 * i, sizeof r[l]);
	if (k < LANES)
		memset(&r[k], 0, (LANES - k) * sizeof r[0]);
	LANES_FN(transpose)(w + i, r);
	if (!decrypt)
		for (size_t j = 0; j < LANES; j++)
			w[i + j] ^= kv[(i + j) & 7];
}

STEP LANES_TARGET void LANES_FN(scatter)(uint8_t *p, const lanes_t *w, size_t k, size_t size,
					 size_t i, const lanes_t kv[8], int decrypt)
{
	lanes_t r[LANES], c[LANES];
	for (size_t j = 0; j < LANES; j++)
		r[j] = decrypt ? w[i + j] ^ kv[(i + j) & 7] : w[i + j];
	LANES_FN(transpose)(c, r);
	for (size_t l = 0; l < k; l++)
		memcpy(p + l * size + 4 * i, &c[l], sizeof c[l]);
}

#undef INTERLEAVE_LO
#undef INTERLEAVE_HI
#endif

/* The sector key XORed in and the diffusers, on k <= LANES consecutive
 * sectors at p (in place), keys holding each sector's 32-byte key; scratch
 * holds n * LANES words, 64-byte aligned. Unused lanes carry zeros and are
 * not stored. */
LANES_TARGET static void LANES_FN(elephant)(void *scratch, uint8_t *p, size_t k, size_t size,
					    const uint8_t *keys, int decrypt)
{
	lanes_t *w = scratch;
	lanes_t kv[8]; /* kv[j]: word j of every sector's key */
	uint32_t *key = (uint32_t *)(void *)kv;
	uint32_t *words = scratch; /* lane l of w[i] is words[i * LANES + l] */
	size_t n = size / 4, vec = 0; /* words moved LANES at a time */
	memset(kv, 0, sizeof kv);
	for (size_t l = 0; l < k; l++)
		for (size_t j = 0; j < 8; j++)
			key[j * LANES + l] = ld32(keys + 32 * l + 4 * j);
	if (k < LANES)
		memset(w, 0, n * sizeof *w);
#ifdef VECTOR_TRANSPOSE
	for (vec = 0; vec + LANES <= n; vec += LANES)
		LANES_FN(gather)(w, p, k, size, vec, kv, decrypt);
#endif
	for (size_t l = 0; l < k; l++)
		for (size_t i = vec; i < n; i++)
			words[i * LANES + l] = ld32(p + l * size + 4 * i) ^
					       (decrypt ? 0 : key[(i & 7) * LANES + l]);
	if (decrypt) {
		LANES_FN(b_decrypt)(w, n);
		LANES_FN(a_decrypt)(w, n);
	} else {
		LANES_FN(a_encrypt)(w, n);
		LANES_FN(b_encrypt)(w, n);
	}
#ifdef VECTOR_TRANSPOSE
	for (size_t i = 0; i < vec; i += LANES)
		LANES_FN(scatter)(p, w, k, size, i, kv, decrypt);
#endif
	for (size_t l = 0; l < k; l++)
		for (size_t i = vec; i < n; i++)
			st32(p + l * size + 4 * i,
			     words[i * LANES + l] ^ (decrypt ? key[(i & 7) * LANES + l] : 0));
	ssrp_memzero(kv, sizeof kv);
}

#undef lanes_t
#undef LANES_FN
#undef LANES_CAT
#undef LANES_CAT2
#undef LANES
#undef LANES_SUFFIX
#undef LANES_TARGET
