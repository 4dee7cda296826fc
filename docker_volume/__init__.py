"""docker_volume"""
