drain_timeout = "30s"
ignore {
  ports = [6443]
}
