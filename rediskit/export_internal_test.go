package rediskit

// GoRedisPrintf is the Printf of the logger SetRedisLogger installs in
// go-redis, for the external tests.
var GoRedisPrintf = goRedisLogger{}.Printf
