-- A small shop, written for recovery-drill's "drill your own database" examples.
-- Loaded with psql as a team would: it creates its own database and connects to it.
-- Foreign keys, a check, an enum, a domain, sequences, a trigger, a view, a materialized
-- view, a function and a procedure; json, bytea, arrays, floats, time zones, non-ASCII text.
DROP DATABASE IF EXISTS shop;
CREATE DATABASE shop;
\c shop

SET client_encoding = 'UTF8';
SET TimeZone = 'Europe/Paris';

CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped', 'cancelled');
CREATE DOMAIN email AS text CHECK (VALUE ~ '^[^@ ]+@[^@ ]+$');

CREATE TABLE customer (
    customer_id serial PRIMARY KEY,
    name text NOT NULL,
    email email UNIQUE,
    country char(2) NOT NULL DEFAULT 'FR',
    tags text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT '2026-01-01 00:00:00+00'
);

CREATE TABLE product (
    product_id serial PRIMARY KEY,
    sku text NOT NULL UNIQUE,
    title text NOT NULL,
    price numeric(10, 2) NOT NULL CHECK (price >= 0),
    weight_kg double precision,
    attributes jsonb NOT NULL DEFAULT '{}',
    thumbnail bytea
);

CREATE SEQUENCE invoice_number_seq START 1000;

CREATE TABLE orders (
    order_id bigserial PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customer (customer_id),
    status order_status NOT NULL DEFAULT 'new',
    placed_at timestamptz NOT NULL,
    invoice_number integer UNIQUE,
    note json,
    total numeric(12, 2) NOT NULL DEFAULT 0
);

CREATE TABLE order_line (
    order_id bigint NOT NULL REFERENCES orders (order_id) ON DELETE CASCADE,
    line_no smallint NOT NULL,
    product_id integer NOT NULL REFERENCES product (product_id),
    quantity integer NOT NULL CHECK (quantity > 0),
    unit_price numeric(10, 2) NOT NULL,
    PRIMARY KEY (order_id, line_no)
);
CREATE INDEX order_line_product_idx ON order_line (product_id);
CREATE INDEX orders_placed_at_idx ON orders (placed_at);

CREATE TABLE audit_log (
    audit_id bigserial PRIMARY KEY,
    order_id bigint NOT NULL,
    old_status order_status,
    new_status order_status NOT NULL,
    changed_at timestamptz NOT NULL
);

-- Keeps an order's total equal to the sum of its lines.
CREATE FUNCTION order_total(p_order bigint) RETURNS numeric
    LANGUAGE sql STABLE
    AS $$ SELECT coalesce(sum(quantity * unit_price), 0) FROM order_line WHERE order_id = p_order $$;

CREATE FUNCTION audit_status() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO audit_log (order_id, old_status, new_status, changed_at)
    VALUES (NEW.order_id, OLD.status, NEW.status, NEW.placed_at + interval '1 hour');
    RETURN NEW;
END
$$;

CREATE TRIGGER orders_status_audit AFTER UPDATE OF status ON orders
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION audit_status();

CREATE PROCEDURE invoice_paid_orders()
    LANGUAGE sql
    AS $$ UPDATE orders SET invoice_number = nextval('invoice_number_seq')
          WHERE status IN ('paid', 'shipped') AND invoice_number IS NULL $$;

CREATE VIEW customer_revenue AS
    SELECT c.customer_id, c.name, count(o.order_id) AS orders, coalesce(sum(o.total), 0) AS revenue
    FROM customer c LEFT JOIN orders o ON o.customer_id = c.customer_id AND o.status <> 'cancelled'
    GROUP BY c.customer_id, c.name;

-- Data: hand-written rows with awkward values, then generated ones (deterministic).
INSERT INTO customer (name, email, country, tags, created_at) VALUES
    ('Zoë Ångström', 'zoe@example.org', 'SE', '{vip,"early adopter"}', '2025-03-30 01:30:00+01'),
    ('渡辺 さくら', 'sakura@example.jp', 'JP', '{}', '2025-10-26 02:30:00+09'),
    ('O''Brien & Sons', NULL, 'IE', '{wholesale}', '2024-02-29 23:59:59.999999+00');
INSERT INTO customer (name, email, country, created_at)
    SELECT 'Customer ' || i, 'customer' || i || '@example.com', (ARRAY['FR', 'DE', 'US', 'BR'])[1 + i % 4],
           timestamptz '2025-01-01 00:00:00+00' + i * interval '7 hours 13 minutes'
    FROM generate_series(1, 197) AS i;

INSERT INTO product (sku, title, price, weight_kg, attributes, thumbnail) VALUES
    ('MUG-01', 'Mug «café»', 9.90, 0.35, '{"colour": "blue", "dishwasher": true}', '\x89504e470d0a1a0a0000'),
    ('TEE-XL', 'T-shirt XL', 19.00, 0.2, '{"size": "XL", "cotton": 0.95}', NULL),
    ('NAN-00', 'Weightless', 0.00, 'NaN', '{}', '\x00ff00ff');
INSERT INTO product (sku, title, price, weight_kg, attributes, thumbnail)
    SELECT 'SKU-' || lpad(i::text, 4, '0'), 'Product ' || i, (i * 1.37)::numeric(10, 2), i / 7.0,
           jsonb_build_object('rank', i, 'ratio', i / 3.0, 'labels', jsonb_build_array('a', i)),
           decode(md5(i::text), 'hex')
    FROM generate_series(1, 57) AS i;

INSERT INTO orders (customer_id, status, placed_at, note)
    SELECT 1 + i % 200, 'new', timestamptz '2025-06-01 08:00:00+02' + i * interval '37 minutes',
           CASE WHEN i % 5 = 0 THEN json_build_object('gift', true, 'message', 'Joyeux anniversaire ' || i) END
    FROM generate_series(1, 1200) AS i;
INSERT INTO order_line (order_id, line_no, product_id, quantity, unit_price)
    SELECT o.order_id, l, 1 + (o.order_id * 7 + l) % 60, 1 + (o.order_id + l) % 4, p.price
    FROM orders o CROSS JOIN generate_series(1, 3) AS l
    JOIN product p ON p.product_id = 1 + (o.order_id * 7 + l) % 60;
UPDATE orders SET total = order_total(order_id);
UPDATE orders SET status = CASE WHEN order_id % 10 = 0 THEN 'cancelled'::order_status
                                WHEN order_id % 3 = 0 THEN 'shipped' ELSE 'paid' END
    WHERE order_id % 4 <> 0;
CALL invoice_paid_orders();

CREATE MATERIALIZED VIEW monthly_sales AS
    SELECT date_trunc('month', placed_at AT TIME ZONE 'UTC') AS month, count(*) AS orders, sum(total) AS revenue
    FROM orders WHERE status <> 'cancelled' GROUP BY 1;

ANALYZE;
