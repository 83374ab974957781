#!/usr/bin/env bash
# Builds test/mongo-server/target/mongo-test-server.jar (in-memory MongoDB
# wire-protocol server for integration tests). Idempotent: does nothing when
# the jar is newer than pom.xml and every file under src/. Works from any cwd.
set -euo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
JAR="$DIR/target/mongo-test-server.jar"
POM="$DIR/pom.xml"
SRC="$DIR/src"

# Up to date when the jar exists and neither pom.xml nor any file under src/ is newer.
if [[ -f "$JAR" && "$JAR" -nt "$POM" && -z "$(find "$SRC" -newer "$JAR" -print -quit)" ]]; then
  exit 0
fi

command -v mvn >/dev/null 2>&1 || { echo "build.sh: mvn not found (apt-get install maven)" >&2; exit 1; }
command -v java >/dev/null 2>&1 || { echo "build.sh: java not found (apt-get install openjdk-17-jdk-headless)" >&2; exit 1; }

mvn -q -B -Dstyle.color=never -f "$POM" package -DskipTests
[[ -f "$JAR" ]] || { echo "build.sh: expected $JAR after build" >&2; exit 1; }
touch "$JAR"
