module github.com/pcmoe/pcmoe/examples/heterogeneous/go

go 1.19

require github.com/pcmoe/pcmoe/bindings/go v0.0.0

replace github.com/pcmoe/pcmoe/bindings/go => ../../../bindings/go
