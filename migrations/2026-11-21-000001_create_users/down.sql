DROP TABLE profiles;
DROP TABLE auth_user_tombstones;
DROP TABLE auth_users;
