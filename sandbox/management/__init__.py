"""The Management API (/api/v2): users and their roles, jobs, client grants, resource servers, roles."""
