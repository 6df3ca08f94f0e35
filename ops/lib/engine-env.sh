# Sourced by the ops scripts whose JVM runs TensorFlow on the CPU: the environment the engine is
# tested and measured in (the pom's surefire environment, the tools' NodeProcess and the container
# image set the same). Each is kept when already set.

# glibc would mmap and unmap TensorFlow's large tensors on every run (page faults each time: an
# 8-token query on BERT-Base took 44 ms instead of 29); keep them in the heap instead
export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-268435456}"
export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-268435456}"
# oneDNN lays the weights out once and keeps them, and each TensorFlow session has threads of its
# own: several sessions of a model on a CPU, each run going to the fastest for its size
# (engine/tf/SizedSessions: small runs faster, the weights in memory once per session kept);
# TF_ONEDNN_ASSUME_FROZEN_WEIGHTS=0 keeps one session
export TF_ONEDNN_ASSUME_FROZEN_WEIGHTS="${TF_ONEDNN_ASSUME_FROZEN_WEIGHTS:-1}"
export TF_OVERRIDE_GLOBAL_THREADPOOL="${TF_OVERRIDE_GLOBAL_THREADPOOL:-1}"
