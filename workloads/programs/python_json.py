"""python-json: JSON encoding and decoding, dict building and string work in CPython.

Objects past pymalloc's 512-byte limit (long strings, big lists and dict tables) go to
malloc, so the record sizes below are chosen to keep many of them alive and dying.
Prints only counts and CRC-32s, which are a pure function of the seed.
"""
import collections
import json
import zlib

SEED = 20240601
ROUNDS = 3
RECORDS = 2500


def lcg_table(seed, n):
    """Fixed pseudo-random numbers, so the data does not depend on Python's random module."""
    out = []
    state = seed
    for _ in range(n):
        state = (state * 6364136223846793005 + 1442695040888963407) & (2**64 - 1)
        out.append(state >> 33)
    return out


WORDS = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
    "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo",
    "sierra", "tango", "uniform", "victor", "whiskey", "xray", "yankee", "zulu",
]
MASK = (1 << 16) - 1
RAND = lcg_table(SEED, MASK + 1)
# A long word stream: slices of it make fresh strings without a draw per word.
STREAM = [WORDS[r % len(WORDS)] for r in lcg_table(SEED + 1, 1 << 16)]


def make_record(i, salt):
    base = (i * 7919 + salt * 104729) & MASK
    r = RAND[base]
    at = r % (len(STREAM) - 200)
    return {
        "id": i,
        "name": "user-%06d-%s" % (i, WORDS[r % len(WORDS)]),
        "score": RAND[(base + 1) & MASK] % 1000000 / 1000.0,
        "tags": STREAM[at:at + 5 + r % 40],
        "bio": " ".join(STREAM[at + 7:at + 27 + r % 150]),
        "history": [
            {"t": RAND[(base + k) & MASK], "kind": STREAM[at + k], "value": (r >> k) % 10000}
            for k in range(r % 12)
        ],
        "attrs": {"k%d" % k: (r + k * k) % 100 for k in range((r >> 8) % 60)},
    }


def one_round(round_no):
    records = [make_record(i, round_no) for i in range(RECORDS)]
    text = json.dumps({"round": round_no, "records": records}, sort_keys=True)
    decoded = json.loads(text)["records"]

    by_name = {}
    by_tag = {}
    for rec in decoded:
        by_name[rec["name"]] = rec
        for tag in rec["tags"]:
            by_tag.setdefault(tag, []).append(rec["id"])
    hits = 0
    for i in range(0, RECORDS * 3):
        key = "user-%06d-%s" % (i % (RECORDS + 500), WORDS[i % len(WORDS)])
        if key in by_name:
            hits += 1

    words = collections.Counter()
    for rec in decoded:
        words.update(rec["bio"].split(" "))
    rebuilt = "\n".join(
        "|".join([rec["name"], rec["bio"].upper(), ",".join(rec["tags"])]) for rec in decoded
    )
    parts = rebuilt.split("|")

    crc = zlib.crc32(text.encode())
    crc = zlib.crc32(rebuilt.encode(), crc)
    crc = zlib.crc32(json.dumps(sorted(words.items())).encode(), crc)
    crc = zlib.crc32(
        json.dumps(sorted((k, len(v), sum(v)) for k, v in by_tag.items())).encode(), crc
    )
    return len(text), len(by_name), hits, len(parts), crc


def main():
    total_bytes = 0
    crc = 0
    for r in range(ROUNDS):
        size, names, hits, parts, round_crc = one_round(r)
        total_bytes += size
        crc = zlib.crc32(round_crc.to_bytes(4, "little"), crc)
        print("round %d: json_bytes=%d names=%d hits=%d parts=%d crc=%08x"
              % (r, size, names, hits, parts, round_crc))
    print("total json_bytes=%d crc=%08x" % (total_bytes, crc))


if __name__ == "__main__":
    main()
