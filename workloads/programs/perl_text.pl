#!/usr/bin/perl
# perl: the script of the perl program benchmark.
# Makes up text, tokenises it with regexes, counts words and bigrams in hashes, builds
# and rewrites strings, and sorts. Perl randomises hash order per run, so every printed
# list is sorted and every digest is taken over sorted data.
use strict;
use warnings;
use Digest::MD5 qw(md5_hex);

my $ROUNDS = 3;
my $LINES  = 12000;

my @WORDS = qw(amber basil cedar dune ember fjord grove heath inlet jade kelp loam marsh
  nectar onyx pine quartz reef sage tundra);

my $state = 20240601;
sub rand_below {
    $state = ($state * 1103515245 + 12345) % 2147483648;
    return $state % $_[0];
}

sub one_round {
    my ($round) = @_;
    my @lines;
    for my $i (1 .. $LINES) {
        my $n = 3 + rand_below(12);
        my @w = map { $WORDS[rand_below(scalar @WORDS)] } 1 .. $n;
        push @lines, sprintf("%06d r%d %s; id=%d-%s", $i, $round, join(' ', @w),
            rand_below(100000), uc $w[0]);
    }

    my (%count, %bigram, %by_first, %by_id);
    for my $line (@lines) {
        my ($body, $id) = $line =~ /^\d+ r\d+ ([a-z ]+); id=(\d+-[A-Z]+)/ or next;
        my @tokens = split / /, $body;
        $count{$_}++ for @tokens;
        $bigram{"$tokens[$_-1] $tokens[$_]"}++ for 1 .. $#tokens;
        push @{ $by_first{ $tokens[0] } }, $line;
        push @{ $by_id{$id} }, \@tokens;
    }

    my @rewritten;
    for my $line (@lines) {
        (my $copy = $line) =~ s/\b([a-z])([a-z]+)\b/\U$1\E$2/g;
        $copy =~ s/id=(\d+)-(\w+)/"id=" . reverse($1) . "-" . lc($2)/e;
        push @rewritten, $copy;
    }

    my @top = (sort { $bigram{$b} <=> $bigram{$a} || $a cmp $b } keys %bigram)[0 .. 4];
    my $groups = join "\n",
        map { $_ . ':' . scalar(@{ $by_first{$_} }) } sort keys %by_first;
    my $sorted = join "\n", sort @rewritten;
    my $words  = join ',', map {"$_=$count{$_}"} sort keys %count;
    my $ids    = join ',', map { $_ . '/' . scalar(@{ $by_id{$_} }) } sort keys %by_id;

    my $h = md5_hex($groups, $words, $ids, $sorted);
    return (scalar(keys %by_id), length($sorted), join(' ', @top), $h);
}

my $combined = Digest::MD5->new;
for my $round (1 .. $ROUNDS) {
    my ($ids, $length, $top, $h) = one_round($round);
    $combined->add($h);
    print "round $round: ids=$ids sorted_bytes=$length digest=$h top=[$top]\n";
}
print "combined digest=", $combined->hexdigest, "\n";
