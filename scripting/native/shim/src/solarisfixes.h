/* Empty: lua_cjson.c includes Redis's solarisfixes.h by a relative path. */
