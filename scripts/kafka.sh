#!/usr/bin/env bash
# Apache Kafka's own broker on this machine, for running the stack and the broker-facing tests
# on the production broker instead of the embedded one (docs/adr/0004).
#
#   bash scripts/kafka.sh run     in the foreground; Ctrl-C stops it
#   bash scripts/kafka.sh start   in the background, returns once it serves requests
#   bash scripts/kafka.sh stop    stops the background one
#   bash scripts/kafka.sh restart kills the background one (SIGKILL) and starts it again on the
#                                 same storage: what it had acknowledged is still there (the
#                                 fault run's broker restart, docs/reliability.md)
#   bash scripts/kafka.sh fetch   only fetches the jars
#
# The broker and its runtime dependencies come from Maven Central through scripts/kafka-pom.xml
# (needs Java 17+ and Maven) and are cached in .fayuan/kafka/lib-<version>/; nothing else is
# downloaded. Each start formats a fresh KRaft storage directory: the broker is transport, the
# stores are truth (design.md §3), so a test broker never carries state over.
# One combined broker/controller, small heap, auto.create.topics.enable=false as in production.
# Environment: FAYUAN_APACHE_KAFKA_PORT (default 19092; the controller listens on port + 1).
set -euo pipefail
cd "$(dirname "$0")/.."

port=${FAYUAN_APACHE_KAFKA_PORT:-19092}
controller_port=$((port + 1))
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' scripts/kafka-pom.xml)
home=.fayuan/kafka
lib=$home/lib-$version
state=$home/broker-$port
pidfile=$state/broker.pid
log=$state/server.log

fetch() {
    [ -f "$lib/.complete" ] && return
    command -v java >/dev/null || { echo "kafka.sh: needs Java 17 or later (apt-get install openjdk-17-jre-headless)" >&2; exit 1; }
    command -v mvn >/dev/null || { echo "kafka.sh: needs Maven (apt-get install maven)" >&2; exit 1; }
    echo "fetching Apache Kafka $version from Maven Central into $lib" >&2
    rm -rf "$lib"
    mkdir -p "$lib"
    mvn -q -B -Dstyle.color=never -f scripts/kafka-pom.xml dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$PWD/$lib"
    touch "$lib/.complete"
}

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

configure() {
    rm -rf "$state"
    mkdir -p "$state/data"
    cat >"$state/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$PWD/$state/data
# As in production (Strimzi KafkaTopic resources): a topic nobody created is an error.
auto.create.topics.enable=false
# One broker: the internal topics cannot have more replicas than that.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests start many short-lived groups; the 3 s wait for more members only slows each one.
group.initial.rebalance.delay.ms=0
PROPS
    cat >"$state/log4j2.properties" <<PROPS
appender.file.type=File
appender.file.name=file
appender.file.fileName=$PWD/$log
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=file
logger.kafka.name=kafka
logger.kafka.level=INFO
logger.state.name=state.change.logger
logger.state.level=WARN
PROPS
}

java_cmd() {
    java -Xmx512m -Xms128m -XX:+UseG1GC -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$PWD/$state/log4j2.properties" \
        -cp "$PWD/$lib/*" "$@"
}

launch() {
    if running; then
        echo "kafka.sh: a broker is already running on 127.0.0.1:$port (pid $(cat "$pidfile"))" >&2
        exit 1
    fi
    fetch
    if [ "${1:-fresh}" = fresh ]; then
        configure
        java_cmd kafka.tools.StorageTool format --config "$state/server.properties" \
            --cluster-id "$(java_cmd kafka.tools.StorageTool random-uuid)" --ignore-formatted >/dev/null
    else
        : >"$log"  # "Kafka Server started" below must be this start's
    fi
    # exec: the pid recorded is the JVM's own, not that of a subshell around it, so `stop`
    # signals the broker itself.
    (exec java -Xmx512m -Xms128m -XX:+UseG1GC -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$PWD/$state/log4j2.properties" \
        -cp "$PWD/$lib/*" kafka.Kafka "$state/server.properties" >"$state/stdout.log" 2>&1) &
    echo $! >"$pidfile"
    # Ready once the broker says it started and its listener accepts connections.
    for _ in $(seq 1 240); do
        if ! running; then
            echo "kafka.sh: the broker exited; see $state/stdout.log and $log" >&2
            tail -20 "$state/stdout.log" >&2 || true
            exit 1
        fi
        if grep -q "Kafka Server started" "$log" 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "Apache Kafka $version ready: KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$port"
            return
        fi
        sleep 0.25
    done
    echo "kafka.sh: the broker did not start within 60 s; see $log" >&2
    stop
    exit 1
}

stop() {
    running || { rm -f "$pidfile"; return 0; }
    local pid
    pid=$(cat "$pidfile")
    kill "$pid"  # SIGTERM: the broker shuts down in order
    for _ in $(seq 1 120); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; echo "Apache Kafka on 127.0.0.1:$port stopped"; return 0; }
        sleep 0.25
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
    echo "Apache Kafka on 127.0.0.1:$port killed after 30 s" >&2
}

case "${1:-run}" in
    fetch) fetch ;;
    start) launch ;;
    stop) stop ;;
    restart)
        running && kill -9 "$(cat "$pidfile")" && while running; do sleep 0.1; done
        rm -f "$pidfile"
        launch keep
        ;;
    run)
        launch
        trap 'stop; exit 0' INT TERM
        echo "Ctrl-C stops it"
        while running; do sleep 1; done
        echo "kafka.sh: the broker exited; see $log" >&2
        exit 1
        ;;
    *) echo "usage: $0 run|start|stop|restart|fetch" >&2; exit 2 ;;
esac
