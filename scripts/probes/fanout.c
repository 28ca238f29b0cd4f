#define _GNU_SOURCE
// Quick fan-out probe until parley-bench exists: M members in #bench, S senders closed-loop with window W.
// Build: gcc -O2 -o /tmp/fanout scripts/probes/fanout.c   Run: /tmp/fanout PORT M S W SECONDS
// Counts every PRIVMSG any member receives; the last member paces each sender (at most W unseen messages).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
typedef struct { int fd; char buf[65536]; int len; long got; int joined; } Conn;
static double now(){ struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); return t.tv_sec+t.tv_nsec/1e9; }
int main(int argc,char**argv){
  int port=atoi(argv[1]), M=atoi(argv[2]), S=atoi(argv[3]), W=atoi(argv[4]); double D=atof(argv[5]);
  Conn*c=calloc(M,sizeof(Conn)); int ep=epoll_create1(0);
  long *sent=calloc(S,sizeof(long)), *acked=calloc(S,sizeof(long));
  for(int i=0;i<M;i++){
    int fd=socket(AF_INET,SOCK_STREAM,0); struct sockaddr_in a={0}; a.sin_family=AF_INET; a.sin_port=htons(port); a.sin_addr.s_addr=htonl(0x7f000001);
    if(connect(fd,(void*)&a,sizeof a)){perror("connect");return 1;}
    int one=1; setsockopt(fd,IPPROTO_TCP,TCP_NODELAY,&one,sizeof one);
    char m[256]; int n=snprintf(m,sizeof m,"NICK u%d\r\nUSER u%d 0 * :u\r\nJOIN #bench\r\n",i,i); write(fd,m,n);
    fcntl(fd,F_SETFL,O_NONBLOCK); c[i].fd=fd;
    struct epoll_event e={.events=EPOLLIN,.data.u32=i}; epoll_ctl(ep,EPOLL_CTL_ADD,fd,&e);
    if(i%50==49) usleep(20000);
  }
  int joined=0; double start=0, t0=now(); long deliveries=0; int phase=0;
  struct epoll_event ev[256];
  char msg[128];
  while(1){
    int n=epoll_wait(ep,ev,256,100);
    for(int k=0;k<n;k++){
      Conn*x=&c[ev[k].data.u32];
      int r=read(x->fd,x->buf+x->len,sizeof(x->buf)-x->len);
      if(r<=0){ if(r==0||errno!=EAGAIN){fprintf(stderr,"conn %u closed\n",ev[k].data.u32); return 1;} continue; }
      x->len+=r; char*p=x->buf; char*end=x->buf+x->len; char*nl;
      while((nl=memchr(p,'\n',end-p))){
        if(!x->joined && memmem(p,nl-p," 366 ",5)){ x->joined=1; joined++; }
        else if(phase==1 && memmem(p,nl-p,"PRIVMSG",7)){ deliveries++;
          if(x==&c[M-1]){ char*s=memmem(p,nl-p,":u",2); int sid=atoi(s+2); if(sid<S) acked[sid]++; } }
        else if(!memcmp(p,"PING",4)){ char pong[300]; int l=snprintf(pong,sizeof pong,"PONG %.*s\r\n",(int)(nl-p-5),p+5); write(x->fd,pong,l); }
        p=nl+1;
      }
      x->len=end-p; memmove(x->buf,p,x->len);
    }
    if(phase==0 && joined==M){ phase=1; start=now(); fprintf(stderr,"all %d joined in %.2fs\n",M,start-t0); }
    if(phase==1){
      for(int s=0;s<S;s++) while(sent[s]-acked[s]<W){
        int l=snprintf(msg,sizeof msg,"PRIVMSG #bench :%ld hello from a sender\r\n",sent[s]);
        if(write(c[s].fd,msg,l)!=l){ fprintf(stderr,"short write on sender %d\n",s); return 1; }
        sent[s]++; }
      if(now()-start>D){ long tot=0; for(int s=0;s<S;s++) tot+=acked[s];
        printf("messages/s %.0f deliveries/s %.0f\n", tot/D, deliveries/D); return 0; }
    }
  }
}
