"""An allocation-heavy Python program for the shim's tests: dicts, strings, lists, bytes,
sets and JSON from many threads. Prints a digest that depends only on the work done, so
it is the same under every correct allocator. Run with PYTHONMALLOC=malloc so that every
object goes through malloc, and PYTHONHASHSEED=0 for a fixed set and dict order.
"""
import hashlib
import json
import random
import sys
import threading

THREADS = 8
ROUNDS = 4


def work(seed, results):
    rng = random.Random(seed)
    digest = hashlib.sha256()
    for round_ in range(ROUNDS):
        table = {}
        for i in range(4000):
            key = "k%d-%d-%s" % (seed, i, "x" * rng.randrange(0, 40))
            table[key] = [rng.random(), str(i) * rng.randrange(1, 20), (i, key)]
        # Rebuild, grow and shrink: many frees of objects other threads' objects sit beside.
        words = sorted(k.upper() for k in table if len(k) % 3 != round_ % 3)
        text = " ".join(words)
        blob = bytearray()
        for word in words[:2000]:
            blob += word.encode() * 3
        big = "".join(reversed(text)) * 4  # a few hundred KiB: the big-allocation path
        tokens = set(text.split())
        encoded = json.dumps({k: v[1] for k, v in list(table.items())[:1500]}, sort_keys=True)
        decoded = json.loads(encoded)
        digest.update(text.encode())
        digest.update(bytes(blob))
        digest.update(str(len(big)).encode() + big[-1000:].encode())
        digest.update(str(len(tokens)).encode())
        digest.update(encoded.encode())
        digest.update(str(sum(len(v) for v in decoded.values())).encode())
        del table, words, text, blob, big, tokens, encoded, decoded
    results[seed] = digest.hexdigest()


def main():
    results = {}
    threads = [threading.Thread(target=work, args=(seed, results)) for seed in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if len(results) != THREADS:
        sys.exit("a worker thread failed")
    for seed in sorted(results):
        print("thread %d: %s" % (seed, results[seed]))
    print("all: %s" % hashlib.sha256("".join(results[s] for s in sorted(results)).encode()).hexdigest())


if __name__ == "__main__":
    main()
