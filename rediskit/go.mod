module github.com/hookguard/hookguard/rediskit

go 1.25.0

require (
	github.com/hookguard/hookguard v0.1.0
	github.com/hookguard/hookguard/internal/redistest v0.1.0
	github.com/redis/go-redis/v9 v9.22.0
	github.com/stretchr/testify v1.12.1
	go.uber.org/goleak v1.3.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/time v0.15.0 // indirect
)

replace github.com/hookguard/hookguard/internal/redistest => ../internal/redistest

replace github.com/hookguard/hookguard => ..
