-- lua: the script of the lua program benchmark (Lua 5.4).
-- Builds and drops many small tables, strings and closures so that the collector and
-- the allocator behind it work hard. Lua seeds its string hashes per run, so nothing
-- printed depends on pairs() order: traversals by pairs() only feed sums of integers,
-- and anything printed in order is sorted first.

local ROUNDS = 3
local RECORDS = 20000

local state = 20240601
local function rand(bound)
  state = (state * 1103515245 + 12345) % 2147483648
  return state % bound
end

local WORDS = {
  "amber", "basil", "cedar", "dune", "ember", "fjord", "grove", "heath", "inlet", "jade",
  "kelp", "loam", "marsh", "nectar", "onyx", "pine", "quartz", "reef", "sage", "tundra",
}

-- A polynomial hash over a string's bytes, in chunks to keep string.byte's results small.
local function digest(s, h)
  h = h or 0
  for i = 1, #s, 64 do
    local bytes = { string.byte(s, i, i + 63) }
    for j = 1, #bytes do h = (h * 31 + bytes[j]) % 4294967291 end
  end
  return h
end

local function make_counter(step)
  local n = 0
  return function()
    n = n + step
    return n
  end
end

local function one_round(round)
  local records = {}
  local by_key = {}
  for i = 1, RECORDS do
    local words = {}
    for k = 1, 2 + rand(10) do words[k] = WORDS[1 + rand(#WORDS)] end
    local rec = {
      id = i,
      key = string.format("%s-%d-%d", words[1], round, i),
      text = table.concat(words, " "),
      counter = make_counter(1 + rand(5)),
      values = {},
    }
    for k = 1, rand(20) do rec.values[k] = rand(1000) end
    records[i] = rec
    by_key[rec.key] = rec
  end

  -- Order-independent totals over the hash part.
  local total, calls = 0, 0
  for _, rec in pairs(by_key) do
    for _, v in ipairs(rec.values) do total = total + v end
    for _ = 1, 3 do calls = calls + rec.counter() end
  end

  -- Rewrite every text: new strings, most of them garbage at once.
  local lengths = 0
  for _, rec in ipairs(records) do
    local upper = rec.text:upper():gsub("A", "4"):gsub("E", "3")
    rec.text = upper .. "|" .. string.rep("+", #rec.values)
    lengths = lengths + #rec.text
  end

  table.sort(records, function(a, b)
    if a.text ~= b.text then return a.text < b.text end
    return a.id < b.id
  end)

  -- Drop every other record from both views, then count the survivors.
  local kept = {}
  for i, rec in ipairs(records) do
    if i % 2 == 0 then by_key[rec.key] = nil else kept[#kept + 1] = rec end
  end
  records = kept
  local left = 0
  for _ in pairs(by_key) do left = left + 1 end

  local lines = {}
  for i = 1, #records, 7 do lines[#lines + 1] = records[i].key .. "=" .. records[i].text end
  local h = digest(table.concat(lines, "\n"))
  return total, calls, lengths, left, h
end

local combined = 0
for round = 1, ROUNDS do
  local total, calls, lengths, left, h = one_round(round)
  combined = (combined * 1000003 + h) % 4294967291
  print(string.format("round %d: total=%d calls=%d lengths=%d left=%d digest=%d",
    round, total, calls, lengths, left, h))
end
print(string.format("combined digest=%d", combined))
