"""python-threads: four CPython threads building and consuming allocation-heavy batches.

The threads form a ring: each builds batches of dicts, lists and strings and hands them
to the next thread, which digests and drops them, so objects are freed by a thread other
than the one that allocated them. Each thread reads a queue with a single producer, so
the order it sees is fixed and the printed checksums are a pure function of the seeds
(the GIL decides only the interleaving, never a result).
"""
import queue
import threading
import zlib

THREADS = 4
BATCHES = 16
ITEMS = 600

WORDS = [
    "amber", "basil", "cedar", "dune", "ember", "fjord", "grove", "heath", "inlet", "jade",
    "kelp", "loam", "marsh", "nectar", "onyx", "pine", "quartz", "reef", "sage", "tundra",
]


def build_batch(seed, batch):
    state = (seed * 1000003 + batch * 7919) & 0x7FFFFFFF
    items = []
    for i in range(ITEMS):
        state = (state * 1103515245 + 12345) & 0x7FFFFFFF
        n = 8 + state % 120
        # Long joined strings and lists of this length go past pymalloc's
        # 512-byte limit, so they are malloc's to serve.
        words = [WORDS[(state >> k) % len(WORDS)] for k in range(n % 24)]
        items.append({
            "key": "%s-%d-%d" % (WORDS[state % len(WORDS)], batch, i),
            "text": " ".join(words * (1 + n // 16)),
            "values": list(range(state % 97, state % 97 + n)),
            "meta": {"w%d" % k: words[k] if k < len(words) else "" for k in range(n % 20)},
        })
    return items


def digest_batch(items):
    index = {item["key"]: item for item in items}
    lines = []
    total = 0
    for key in sorted(index):
        item = index[key]
        upper = item["text"].upper().split(" ")
        total += sum(item["values"]) + len(upper) + len(item["meta"])
        lines.append("%s:%s:%d" % (key, "/".join(sorted(set(upper))), len(item["text"])))
    blob = "\n".join(lines).encode()
    return zlib.crc32(blob), total, len(blob)


def worker(tid, inbox, outbox, results):
    crc = 0
    total = 0
    size = 0
    for batch in range(BATCHES):
        outbox.put(build_batch(tid + 1, batch))
        items = inbox.get()
        batch_crc, batch_total, batch_size = digest_batch(items)
        del items
        crc = zlib.crc32(batch_crc.to_bytes(4, "little"), crc)
        total += batch_total
        size += batch_size
    results[tid] = (crc, total, size)


def main():
    queues = [queue.Queue() for _ in range(THREADS)]
    results = [None] * THREADS
    threads = [
        threading.Thread(target=worker,
                         args=(t, queues[t], queues[(t + 1) % THREADS], results))
        for t in range(THREADS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    combined = 0
    for tid, (crc, total, size) in enumerate(results):
        combined = zlib.crc32(crc.to_bytes(4, "little"), combined)
        print("thread %d: digested_bytes=%d total=%d crc=%08x" % (tid, size, total, crc))
    print("combined crc=%08x" % combined)


if __name__ == "__main__":
    main()
