from finflow.migrations import run_env

run_env("notification")
