package LinstorTestController;

# A real embedded LINSTOR controller for the shim's tests: started on a free
# loopback port with a fresh state directory, given one node (this host's short
# name, which the shim sends as the local node) with a FILE pool and a resource
# group, all through the LINSTOR REST API; stopped again with its loop devices
# detached, also when a test dies half-way.

use strict;
use warnings;

use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use IO::Socket::INET;
use JSON::PP;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

my $json = JSON::PP->new->canonical;

sub _python {
    for my $dir (split(/:/, $ENV{PATH} // '')) {
        return "$dir/python" if -x "$dir/linstor-pve" && -x "$dir/python";
    }
    return 'python3';
}

sub _free_port {
    my $socket = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0)
        or die "cannot find a free port: $!\n";
    my $port = $socket->sockport();
    close($socket);
    return $port;
}

sub start {
    my ($class) = @_;
    my $dir = tempdir('linstor-pve-t-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $port = _free_port();
    my $self = bless {
        dir => $dir, port => $port, url => "http://127.0.0.1:$port",
        http => HTTP::Tiny->new(timeout => 30),
    }, $class;
    my $pid = fork() // die "fork: $!\n";
    if (!$pid) {
        open(STDOUT, '>', "$dir/controller.log") or die;
        open(STDERR, '>&', \*STDOUT) or die;
        exec(_python(), '-m', 'linstor_core.controller.server', '--state-dir', "$dir/state",
            '--listen', "127.0.0.1:$port") or die "exec: $!\n";
    }
    $self->{pid} = $pid;
    my $deadline = time() + 30;
    while (time() < $deadline) {
        return $self if $self->{http}->get("$self->{url}/v1/controller/version")->{success};
        if (waitpid($pid, WNOHANG) == $pid) {
            delete $self->{pid};
            die "controller exited:\n" . $self->log();
        }
        sleep(0.2);
    }
    $self->stop();
    die "controller did not answer within 30 s:\n" . $self->log();
}

sub url { return $_[0]->{url} }
sub dir { return $_[0]->{dir} }

sub log {
    my ($self) = @_;
    open(my $fh, '<', "$self->{dir}/controller.log") or return '';
    local $/;
    return <$fh>;
}

sub request {
    my ($self, $method, $path, $body) = @_;
    my $response = $self->{http}->request($method, "$self->{url}$path", {
        headers => { 'Content-Type' => 'application/json' },
        defined($body) ? (content => $json->encode($body)) : (),
    });
    die "$method $path: $response->{status} $response->{content}\n" if !$response->{success};
    return length($response->{content}) ? $json->decode($response->{content}) : undef;
}

# One node with a FILE pool (plain copies: snapshots work on any file system)
# and a resource group placing one replica there, storage layer only (no DRBD
# kernel module needed).
sub setup {
    my ($self, %args) = @_;
    my ($node, $group) = @args{qw(node group)};
    my $pool_dir = "$self->{dir}/pool";
    mkdir($pool_dir) or die "mkdir $pool_dir: $!\n";
    $self->request('POST', '/v1/nodes', {
        name => $node, type => 'SATELLITE',
        net_interfaces => [{ name => 'default', address => '127.0.0.1', satellite_port => 3366 }],
    });
    $self->request('POST', "/v1/nodes/$node/storage-pools", {
        storage_pool_name => 'pool', provider_kind => 'FILE',
        props => { 'StorDriver/FileDir' => $pool_dir },
    });
    $self->request('POST', '/v1/resource-groups', {
        name => $group,
        select_filter => { place_count => 1, storage_pool => 'pool', layer_stack => ['STORAGE'] },
    });
    return;
}

sub _loops_under {
    my ($dir) = @_;
    my @loops;
    open(my $list, '-|', 'losetup', '--list', '--noheadings', '--output', 'NAME,BACK-FILE')
        or return ();
    while (my $line = <$list>) {
        my ($name, $file) = split(' ', $line, 2);
        push(@loops, $name) if defined($file) && index($file, $dir) >= 0;
    }
    close($list);
    return @loops;
}

sub stop {
    my ($self) = @_;
    if (my $pid = delete $self->{pid}) {
        kill('TERM', $pid);
        my $deadline = time() + 10;
        sleep(0.1) while waitpid($pid, WNOHANG) == 0 && time() < $deadline;
        if (kill(0, $pid)) {
            kill('KILL', $pid);
            waitpid($pid, 0);
        }
    }
    system('losetup', '-d', $_) for _loops_under($self->{dir});
    return;
}

sub DESTROY {
    my ($self) = @_;
    local ($?, $@);
    $self->stop();
}

1;
