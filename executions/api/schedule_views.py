from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from autogpt_platform.pagination import PageNumberPagination, paginated
from executions import schedules

from . import schedule_serializers as s


class GraphScheduleListCreateView(APIView):
    required_scopes = {"GET": "read_graph", "POST": "execute_graph"}
    pagination_class = PageNumberPagination

    @extend_schema(tags=["schedules"], responses=s.ScheduleOutputSerializer(many=True))
    def get(self, request, graph_id):
        return paginated(
            request, self, schedules.schedule_list(user=request.user, graph_id=graph_id), s.ScheduleOutputSerializer
        )

    @extend_schema(
        tags=["schedules"], request=s.ScheduleCreateInputSerializer, responses={201: s.ScheduleDetailSerializer}
    )
    def post(self, request, graph_id):
        data = s.ScheduleCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        schedule = schedules.schedule_create(
            user=request.user,
            graph_id=graph_id,
            name=values["name"],
            inputs=values["inputs"],
            cron=values["cron"],
            timezone_name=values["timezone"],
            run_at=values["run_at"],
            graph_version=values["graph_version"],
        )
        return Response(s.ScheduleDetailSerializer(schedule).data, status=status.HTTP_201_CREATED)


class ScheduleListView(APIView):
    required_scopes = "read_graph"
    pagination_class = PageNumberPagination

    @extend_schema(tags=["schedules"], responses=s.ScheduleOutputSerializer(many=True))
    def get(self, request):
        return paginated(request, self, schedules.schedule_list(user=request.user), s.ScheduleOutputSerializer)


class ScheduleDetailView(APIView):
    required_scopes = {"GET": "read_graph", "PATCH": "execute_graph", "DELETE": "execute_graph"}

    @extend_schema(tags=["schedules"], responses=s.ScheduleDetailSerializer)
    def get(self, request, schedule_id):
        schedule = schedules.schedule_get(user=request.user, schedule_id=schedule_id)
        return Response(s.ScheduleDetailSerializer(schedule).data)

    @extend_schema(tags=["schedules"], request=s.ScheduleUpdateInputSerializer, responses=s.ScheduleDetailSerializer)
    def patch(self, request, schedule_id):
        data = s.ScheduleUpdateInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        schedule = schedules.schedule_update(user=request.user, schedule_id=schedule_id, **data.validated_data)
        return Response(s.ScheduleDetailSerializer(schedule).data)

    @extend_schema(tags=["schedules"], responses={204: None})
    def delete(self, request, schedule_id):
        schedules.schedule_delete(user=request.user, schedule_id=schedule_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
