-- sqlite: the script of the sqlite program benchmark, run on an in-memory database.
-- Builds tables with recursive CTEs, indexes them, joins, groups and sorts, and works on
-- text. Every query orders its rows fully and sums integers only, so the output is a
-- pure function of this file; pseudo-random values come from hashing the row number
-- (the high bits of a multiplicative hash), not from random(), which sqlite seeds itself.
.bail on
.mode list
.separator " "
PRAGMA cache_size = -131072;
PRAGMA temp_store = MEMORY;

CREATE TABLE customer(id INTEGER PRIMARY KEY, name TEXT, city INTEGER, tier TEXT);
CREATE TABLE product(id INTEGER PRIMARY KEY, title TEXT, category TEXT, cents INTEGER);
CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER, product INTEGER,
                    qty INTEGER, note TEXT);

WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000),
h(i, a, b) AS (SELECT i, (i * 2654435761) % 4294967296 / 65536,
                         (i * 2246822519) % 4294967296 / 65536 FROM n)
INSERT INTO customer
SELECT i, printf('customer-%06d-%s', i, substr('abcdefghijklmnopqrstuvwxyz', 1 + a % 22, 5)),
       b % 211, CASE a % 5 WHEN 0 THEN 'gold' WHEN 1 THEN 'silver' ELSE 'basic' END
FROM h;

WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000),
h(i, a, b) AS (SELECT i, (i * 3266489917) % 4294967296 / 65536,
                         (i * 668265263) % 4294967296 / 65536 FROM n)
INSERT INTO product
SELECT i, printf('product %d %s', i, hex(a)), 'category-' || (b % 40), 100 + a * b % 99900
FROM h;

WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60000),
h(i, a, b, c) AS (SELECT i, (i * 2654435761) % 4294967296 / 65536,
                            (i * 374761393) % 4294967296 / 65536,
                            (i * 3266489917) % 4294967296 / 65536 FROM n)
INSERT INTO orders
SELECT i, 1 + (a * 65536 + b) % 20000, 1 + c * b % 2000, 1 + c % 9,
       printf('order %d for %d: %s', i, b,
              substr('lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod',
                     1 + a % 40, 10 + c % 30))
FROM h;

CREATE INDEX orders_customer ON orders(customer);
CREATE INDEX orders_product ON orders(product, qty);
CREATE INDEX customer_city ON customer(city, tier);
CREATE INDEX orders_note ON orders(note);

SELECT 'rows', (SELECT count(*) FROM customer), (SELECT count(*) FROM product),
       (SELECT count(*) FROM orders);

SELECT 'tier', c.tier, count(*), sum(o.qty * p.cents)
FROM orders o JOIN customer c ON c.id = o.customer JOIN product p ON p.id = o.product
GROUP BY c.tier ORDER BY c.tier;

SELECT 'category', p.category, count(DISTINCT o.customer), sum(o.qty)
FROM orders o JOIN product p ON p.id = o.product
GROUP BY p.category ORDER BY sum(o.qty) DESC, p.category LIMIT 5;

SELECT 'top', c.name, total FROM (
  SELECT o.customer AS cid, sum(o.qty * p.cents) AS total
  FROM orders o JOIN product p ON p.id = o.product GROUP BY o.customer) t
JOIN customer c ON c.id = t.cid ORDER BY total DESC, c.id LIMIT 5;

SELECT 'city', count(*), sum(n), max(n) FROM (
  SELECT c.city, count(*) AS n FROM customer c JOIN orders o ON o.customer = c.id
  GROUP BY c.city);

SELECT 'text', count(*), sum(length(s)), sum(unicode(substr(s, -1))) FROM (
  SELECT upper(replace(phrase, ' ', '_')) || '|' || group_concat(id || ':' || qty, ',') AS s
  FROM (SELECT id, qty, substr(note, instr(note, ':') + 2) AS phrase FROM orders ORDER BY id)
  GROUP BY phrase ORDER BY s);

SELECT 'concat', length(group_concat(name, ',')), sum(length(name)) FROM (
  SELECT name FROM customer ORDER BY city, tier, name DESC);

UPDATE orders SET note = note || ' (' || qty || ')' WHERE qty > 5;
DELETE FROM orders WHERE id % 3 = 0;
SELECT 'after', count(*), sum(length(note)), sum(qty) FROM orders;
