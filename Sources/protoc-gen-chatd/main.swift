print("protoc-gen-chatd")
