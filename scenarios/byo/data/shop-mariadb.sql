-- A small shop, written for recovery-drill's "drill your own database" examples.
-- Loaded with the mariadb client as a team would: it creates its own database and uses it.
-- Foreign keys, checks, an ENUM column, a sequence, a trigger, a view, a function, a
-- procedure and an event (DELIMITER blocks); json, blobs, doubles, time zones, non-ASCII text.
DROP DATABASE IF EXISTS shop;
CREATE DATABASE shop CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
USE shop;

SET NAMES utf8mb4;
SET time_zone = '+01:00';

CREATE TABLE customer (
    customer_id INT AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(120) NOT NULL,
    email VARCHAR(200) UNIQUE,
    country CHAR(2) NOT NULL DEFAULT 'FR',
    tags JSON NOT NULL DEFAULT (JSON_ARRAY()),
    created_at TIMESTAMP(6) NOT NULL DEFAULT '2026-01-01 00:00:00',
    CONSTRAINT customer_email_check CHECK (email IS NULL OR email LIKE '%_@_%')
) ENGINE = InnoDB;

CREATE TABLE product (
    product_id INT AUTO_INCREMENT PRIMARY KEY,
    sku VARCHAR(20) NOT NULL UNIQUE,
    title VARCHAR(200) NOT NULL,
    price DECIMAL(10, 2) NOT NULL CHECK (price >= 0),
    weight_kg DOUBLE,
    attributes JSON NOT NULL,
    thumbnail BLOB
) ENGINE = InnoDB;

CREATE SEQUENCE invoice_number_seq START WITH 1000 INCREMENT BY 1;

CREATE TABLE orders (
    order_id BIGINT AUTO_INCREMENT PRIMARY KEY,
    customer_id INT NOT NULL,
    status ENUM('new', 'paid', 'shipped', 'cancelled') NOT NULL DEFAULT 'new',
    placed_at DATETIME(0) NOT NULL,
    invoice_number INT UNIQUE,
    note JSON,
    total DECIMAL(12, 2) NOT NULL DEFAULT 0,
    CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customer (customer_id),
    INDEX orders_placed_at_idx (placed_at)
) ENGINE = InnoDB;

CREATE TABLE order_line (
    order_id BIGINT NOT NULL,
    line_no SMALLINT NOT NULL,
    product_id INT NOT NULL,
    quantity INT NOT NULL CHECK (quantity > 0),
    unit_price DECIMAL(10, 2) NOT NULL,
    PRIMARY KEY (order_id, line_no),
    CONSTRAINT order_line_order_fk FOREIGN KEY (order_id) REFERENCES orders (order_id) ON DELETE CASCADE,
    CONSTRAINT order_line_product_fk FOREIGN KEY (product_id) REFERENCES product (product_id),
    INDEX order_line_product_idx (product_id)
) ENGINE = InnoDB;

CREATE TABLE audit_log (
    audit_id BIGINT AUTO_INCREMENT PRIMARY KEY,
    order_id BIGINT NOT NULL,
    old_status VARCHAR(10),
    new_status VARCHAR(10) NOT NULL,
    changed_at DATETIME NOT NULL
) ENGINE = InnoDB;

DELIMITER //
CREATE FUNCTION order_total(p_order BIGINT) RETURNS DECIMAL(12, 2)
    READS SQL DATA
BEGIN
    RETURN (SELECT COALESCE(SUM(quantity * unit_price), 0) FROM order_line WHERE order_id = p_order);
END//

CREATE TRIGGER orders_status_audit AFTER UPDATE ON orders FOR EACH ROW
BEGIN
    IF NOT (OLD.status <=> NEW.status) THEN
        INSERT INTO audit_log (order_id, old_status, new_status, changed_at)
        VALUES (NEW.order_id, OLD.status, NEW.status, NEW.placed_at + INTERVAL 1 HOUR);
    END IF;
END//

CREATE PROCEDURE invoice_paid_orders()
BEGIN
    UPDATE orders SET invoice_number = NEXT VALUE FOR invoice_number_seq
    WHERE status IN ('paid', 'shipped') AND invoice_number IS NULL ORDER BY order_id;
END//

CREATE EVENT purge_old_audit ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 03:00:00' DISABLE
DO BEGIN
    DELETE FROM audit_log WHERE changed_at < NOW() - INTERVAL 10 YEAR;
END//
DELIMITER ;

CREATE VIEW customer_revenue AS
    SELECT c.customer_id, c.name, COUNT(o.order_id) AS orders, COALESCE(SUM(o.total), 0) AS revenue
    FROM customer c LEFT JOIN orders o ON o.customer_id = c.customer_id AND o.status <> 'cancelled'
    GROUP BY c.customer_id, c.name;

-- Data: hand-written rows with awkward values, then generated ones (deterministic).
INSERT INTO customer (name, email, country, tags, created_at) VALUES
    ('Zoë Ångström', 'zoe@example.org', 'SE', '["vip", "early adopter"]', '2025-03-30 01:30:00'),
    ('渡辺 さくら', 'sakura@example.jp', 'JP', '[]', '2025-10-26 02:30:00'),
    ('O''Brien & Sons', NULL, 'IE', '["wholesale"]', '2024-02-29 23:59:59.999999');
INSERT INTO customer (name, email, country, created_at)
    SELECT CONCAT('Customer ', seq), CONCAT('customer', seq, '@example.com'),
           ELT(1 + seq % 4, 'FR', 'DE', 'US', 'BR'),
           TIMESTAMP '2025-01-01 00:00:00' + INTERVAL (seq * 433) MINUTE
    FROM seq_1_to_197;

INSERT INTO product (sku, title, price, weight_kg, attributes, thumbnail) VALUES
    ('MUG-01', 'Mug «café»', 9.90, 0.35, '{"colour": "blue", "dishwasher": true}', X'89504E470D0A1A0A0000'),
    ('TEE-XL', 'T-shirt XL', 19.00, 0.2, '{"size": "XL", "cotton": 0.95}', NULL),
    ('ZER-00', 'Weightless', 0.00, -0.0, '{}', X'00FF00FF');
INSERT INTO product (sku, title, price, weight_kg, attributes, thumbnail)
    SELECT CONCAT('SKU-', LPAD(seq, 4, '0')), CONCAT('Product ', seq), ROUND(seq * 1.37, 2), seq / 7e0,
           JSON_OBJECT('rank', seq, 'ratio', seq / 3, 'labels', JSON_ARRAY('a', seq)),
           UNHEX(MD5(seq))
    FROM seq_1_to_57;

INSERT INTO orders (customer_id, status, placed_at, note)
    SELECT 1 + seq % 200, 'new', TIMESTAMP '2025-06-01 06:00:00' + INTERVAL (seq * 37) MINUTE,
           IF(seq % 5 = 0, JSON_OBJECT('gift', TRUE, 'message', CONCAT('Joyeux anniversaire ', seq)), NULL)
    FROM seq_1_to_1200;
INSERT INTO order_line (order_id, line_no, product_id, quantity, unit_price)
    SELECT o.order_id, l.seq, 1 + (o.order_id * 7 + l.seq) % 60, 1 + (o.order_id + l.seq) % 4, p.price
    FROM orders o CROSS JOIN seq_1_to_3 l
    JOIN product p ON p.product_id = 1 + (o.order_id * 7 + l.seq) % 60;
UPDATE orders SET total = order_total(order_id);
UPDATE orders SET status = CASE WHEN order_id % 10 = 0 THEN 'cancelled'
                                WHEN order_id % 3 = 0 THEN 'shipped' ELSE 'paid' END
    WHERE order_id % 4 <> 0;
CALL invoice_paid_orders();
