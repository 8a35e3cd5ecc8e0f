"""The program recorded for the shipped `python` trace: typical interpreter allocation.

Parses and serialises JSON, builds dicts, lists and strings, sorts, and runs two worker
threads that hand results back to the main thread (cross-thread frees).
"""
import json
import queue
import threading


def build_records(n, seed):
    records = []
    x = seed
    for i in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        records.append({
            "id": i,
            "name": "item-%d-%x" % (i, x),
            "tags": [str(x % 97), str(x % 13), "t" * (x % 40)],
            "score": (x % 1000) / 7.0,
        })
    return records


def worker(n, seed, results):
    records = build_records(n, seed)
    text = json.dumps(records)
    parsed = json.loads(text)
    parsed.sort(key=lambda r: (r["score"], r["name"]))
    index = {r["name"]: r for r in parsed}
    results.put((len(text), len(index), [r["name"].upper() for r in parsed[:200]]))


def main():
    results = queue.Queue()
    threads = [threading.Thread(target=worker, args=(1000, s, results)) for s in (1, 2)]
    for t in threads:
        t.start()
    worker(1000, 3, results)
    for t in threads:
        t.join()
    total = 0
    while not results.empty():
        size, count, names = results.get()
        total += size + count + len("".join(names))
    words = {}
    for line in ("the quick brown fox jumps over the lazy dog " * 400).split():
        words[line] = words.get(line, 0) + 1
    print(total, sorted(words.items())[:3])


main()
