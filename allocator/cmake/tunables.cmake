# The fio allocator's tunables, each declared once, here: its default, its range and what
# it trades. Each becomes
#   - the CMake cache variable FIO_MEM_<NAME> (`cmake -DFIO_MEM_BLOCK_SIZE=65536 ...`;
#     `cmake -LH BUILD | grep -A2 FIO_MEM_` lists them with these texts),
#   - the compile definition FIO_<NAME> of the allocator's libraries (src/config.h checks
#     the values against each other),
#   - the definition FIO_TEST_<NAME> of its tests (FIO_MEM_TUNABLE_TEST_DEFS),
#   - "<name> <value>" in fio_malloc_version() (FIO_MEM_TUNABLES_TEXT).
# Some take 0 for a value derived from others; the definitions carry the value used.

set(FIO_MEM_TUNABLE_DEFS "")
set(FIO_MEM_TUNABLE_TEST_DEFS "")
set(FIO_MEM_TUNABLES_TEXT "")

# fio_tunable(NAME DEFAULT MIN MAX DOC): declares FIO_MEM_<NAME>, a whole number in
# [MIN, MAX].
function(fio_tunable name default min max doc)
  set(FIO_MEM_${name} ${default} CACHE STRING "fio allocator: ${doc}")
  set(value "${FIO_MEM_${name}}")
  if(NOT value MATCHES "^[0-9]+$" OR value LESS min OR value GREATER max)
    message(FATAL_ERROR "FIO_MEM_${name} must be a whole number from ${min} to ${max}, not '${value}'")
  endif()
  set(FIO_MEM_TUNABLES "${FIO_MEM_TUNABLES};${name}" PARENT_SCOPE)
endfunction()

fio_tunable(BLOCK_SIZE 32768 8192 16777216
  "bytes per small-object block, a power of two. Larger: fewer slow paths and settlements per object, but one long-lived object pins more memory and recycling is coarser; smaller: the opposite, and a lower largest small size.")
fio_tunable(BIG_LIMIT 0 0 16777216
  "requests above this many bytes leave the small-object blocks (0: half a block). Higher: more sizes on the fast path, but one object can fill a block alone; at most the block less its header and 4 KiB.")
fio_tunable(POOL_CAP_BLOCKS 128 0 1048576
  "recycled blocks each shard of the shared pool keeps for good (4 MiB). Higher: fewer mmap/munmap in bursty programs, more resident memory after a peak.")
fio_tunable(POOL_DECAY_MS 1000 0 86400000
  "milliseconds a block past a shard's cap stays unused before it goes back to the system (0: at once). Longer: fewer munmap/mmap pairs and page faults when threads come and go; memory returns later (at the allocator's next use: there is no background thread).")
fio_tunable(POOL_MAX_BLOCKS 0 0 1073741824
  "blocks a shard holds at most; past it they go back at once, however young (0: 32 times the cap, 128 MiB). Lower: less held after a burst of frees, more munmap/mmap when many threads come and go on few CPUs.")
fio_tunable(THREAD_CACHE_BLOCKS 64 0 1048576
  "recycled blocks each thread keeps for itself (2 MiB): enough to reuse a whole group (4096 x 264 B is 34 blocks) without shared state; higher: more idle memory per thread.")
fio_tunable(OWNED_BLOCKS 64 0 1048576
  "retired blocks a thread may own, counting its own frees there without atomics (0: none). Past it the oldest is handed over and frees into it pay one atomic per run again; higher: a thread that stops working can hold more blocks that others emptied.")
fio_tunable(ARENA_COUNT 0 0 64
  "shards of the shared pool and heaps of the middle tier (0: one per CPU, at most 64). More: less lock contention, more memory parked in pools.")
fio_tunable(BIG_CACHE_BYTES 33554432 0 1099511627776
  "bytes of freed big mappings kept mapped for reuse (0: none; a mapping above a quarter of it is never kept). Higher: more repeated big sizes served without mmap, more resident memory after a peak.")
fio_tunable(BIG_CACHE_SLOTS 16 0 256
  "freed big mappings kept at most; each reuse scans them under one lock.")
fio_tunable(ZERO_RUN_AFTER 2 0 1048576
  "zero-asking allocations per block that zero only their own old bytes before one zeroes every old byte left in the block (0: always the whole run). Lower: series of callocs reach the single memset sooner; higher: a program that mixes a few callocs into many mallocs zeroes less it did not ask for.")
fio_tunable(MID_MAX 4194304 0 1073741824
  "largest request served by a run of blocks in a 32 MiB chunk of the middle tier (0: none, every request above the big limit is mapped). Higher: more sizes reused without system calls, more address space per chunk held by one long-lived buffer.")
fio_tunable(MID_IDLE_PERCENT 400 0 1000000
  "idle resident bytes a middle-tier heap keeps, in percent of its live bytes (plus 4 MiB). Higher: fewer page faults when buffers are replaced, a higher peak RSS.")
fio_tunable(SPARSE_LIVE 64 0 1048576
  "an owned block whose owner's count falls to this many objects is looked at: if its holes have room (6 KiB in stretches with no live object), they are sliced again before the thread takes another block; if not, it is looked at again when half of those objects are gone (0: never). Higher: survivors share blocks sooner, more blocks looked at; lower: more blocks stay pinned by a few objects.")

# Values derived from others when 0 is asked.
set(FIO_MEM_BIG_LIMIT_USED ${FIO_MEM_BIG_LIMIT})
if(FIO_MEM_BIG_LIMIT EQUAL 0)
  math(EXPR FIO_MEM_BIG_LIMIT_USED "${FIO_MEM_BLOCK_SIZE} / 2")
endif()
set(FIO_MEM_POOL_MAX_BLOCKS_USED ${FIO_MEM_POOL_MAX_BLOCKS})
if(FIO_MEM_POOL_MAX_BLOCKS EQUAL 0)
  math(EXPR FIO_MEM_POOL_MAX_BLOCKS_USED "32 * ${FIO_MEM_POOL_CAP_BLOCKS}")
endif()
if(FIO_MEM_POOL_MAX_BLOCKS_USED LESS FIO_MEM_POOL_CAP_BLOCKS)
  message(FATAL_ERROR "FIO_MEM_POOL_MAX_BLOCKS (${FIO_MEM_POOL_MAX_BLOCKS}) must be 0 or at least "
                      "FIO_MEM_POOL_CAP_BLOCKS (${FIO_MEM_POOL_CAP_BLOCKS})")
endif()

foreach(name IN LISTS FIO_MEM_TUNABLES)
  if(name STREQUAL "")
    continue()
  endif()
  set(value ${FIO_MEM_${name}})
  if(DEFINED FIO_MEM_${name}_USED)
    set(value ${FIO_MEM_${name}_USED})
  endif()
  list(APPEND FIO_MEM_TUNABLE_DEFS "FIO_${name}=${value}")
  list(APPEND FIO_MEM_TUNABLE_TEST_DEFS "FIO_TEST_${name}=${value}")
  string(TOLOWER "${name}" label)
  string(REPLACE "_" " " label "${label}")
  if(FIO_MEM_TUNABLES_TEXT STREQUAL "")
    set(FIO_MEM_TUNABLES_TEXT "${label} ${value}")
  else()
    string(APPEND FIO_MEM_TUNABLES_TEXT ", ${label} ${value}")
  endif()
endforeach()
