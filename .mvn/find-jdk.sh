# Sourced by ./mvnw and the project's scripts: exports JAVA_HOME pointing at a JDK >= 25.
# gpu-agent needs JDK 25 (the Foreign Function & Memory API is final there); many hosts default to 17.
gpu_agent_java_major() {
  "$1/bin/java" -version 2>&1 | sed -n '1s/.*version "\([0-9][0-9]*\).*/\1/p'
}
gpu_agent_find_jdk() {
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/javac" ] || continue
    major=$(gpu_agent_java_major "$candidate")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then
      JAVA_HOME=$candidate
      export JAVA_HOME
      return 0
    fi
  done
  java_on_path=$(command -v javac 2>/dev/null) && {
    home=$(dirname "$(dirname "$(readlink -f "$java_on_path")")")
    major=$(gpu_agent_java_major "$home")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then JAVA_HOME=$home; export JAVA_HOME; return 0; fi
  }
  echo "gpu-agent: no JDK >= 25 found (looked at JAVA_HOME='${JAVA_HOME:-}', /usr/lib/jvm/*, javac on PATH)." >&2
  echo "gpu-agent: install one (e.g. Temurin 25) and set JAVA_HOME to it." >&2
  return 1
}
gpu_agent_find_jdk || exit 1
