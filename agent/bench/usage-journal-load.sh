#!/usr/bin/env bash
# How long the agent takes to load a usage journal (state-dir/usage.jsonl) at start: UsageJournalLoad (agent's
# test classes) writes one of N ended leases of GPUS GPUs each, one line per lease as compaction leaves it,
# then opens it ROUNDS times in one JVM (the first is the cold start that matters; later ones are warmed up).
# Target: under 1 s for 10,000 leases. Needs a build: ./mvnw -B -pl agent -am verify -DskipTests (test classes
# compiled) or any agent test run.
#
#   agent/bench/usage-journal-load.sh [N [GPUS [ROUNDS]]]     (default 10000 8 5)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$root/.mvn/find-jdk.sh"
app="$root/agent/target/quarkus-app"
classes="$root/agent/target/classes"
tests="$root/agent/target/test-classes"
[ -f "$tests/io/gpuagent/agent/usage/UsageJournalLoad.class" ] && [ -d "$app/lib/main" ] || {
  echo "bench: build first: ./mvnw -B -pl agent -am package -DskipTests -Dmaven.test.skip=false" >&2
  echo "       (needs agent/target/test-classes and agent/target/quarkus-app/lib/main)" >&2
  exit 1
}
cp="$classes:$tests:$(ls "$app"/lib/main/*.jar | tr '\n' ':')"
echo "| what | time to open and replay | target | command |"
echo "|---|---|---|---|"
exec "$JAVA_HOME/bin/java" -XX:TieredStopAtLevel=1 -cp "$cp" io.gpuagent.agent.usage.UsageJournalLoad "$@"
