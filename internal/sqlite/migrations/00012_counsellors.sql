-- A new counsellor takes no leads until they set their hours: a counsellor without a routing
-- profile is now inactive. The counsellors who were taking leads before keep doing so.

-- +goose Up
INSERT INTO counsellor_profiles (user_id, active, updated_at)
SELECT id, TRUE, CURRENT_TIMESTAMP FROM users
WHERE (',' || roles || ',') LIKE '%,counsellor,%' AND id NOT IN (SELECT user_id FROM counsellor_profiles);

-- +goose Down
SELECT 1;
