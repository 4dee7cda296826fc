"""opennebula_driver"""
