#!/bin/sh
# Runs Apache ZooKeeper 3.8 where the supervisor would run a ZooLab server: the supervisor
# spawns `<node> <cli.js> server <zoo.cfg>`; given as its nodePath, this script ignores the
# first two words and starts QuorumPeerMain on the zoo.cfg (as zkServer.sh start-foreground).
# Lets the supervisor's reconfig paths be proven against the real ZooKeeper.
cfg="$3"
dir=$(dirname "$cfg")
cp=/usr/share/java/zookeeper.jar
[ -d /etc/zookeeper/conf ] && cp="/etc/zookeeper/conf:$cp"
exec java -Xmx128m -Dzookeeper.admin.enableServer=false "-Dzookeeper.log.dir=$dir" -Dzookeeper.root.logger=INFO,CONSOLE -cp "$cp" org.apache.zookeeper.server.quorum.QuorumPeerMain "$cfg"
